using AkkaPortShare.Contracts.Hosting;
using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Router.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace AkkaPortShare.Router.Tests.Hosting;

/// <summary>The router's Akka.Hosting health checks: live while its core actors answer, ready while it accepts.</summary>
public sealed class RouterHealthChecksSpec
{
    [Fact]
    public async Task A_router_is_live_and_ready_while_it_accepts_and_live_but_not_ready_once_it_drains()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddHealthChecks();
        builder.Services.AddAkka("health-spec", akka =>
        {
            akka.AddHocon("""
                akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
                akka-port-share.router { listen-address = "127.0.0.1", control-socket = off }
                """, HoconAddMode.Prepend);
            akka.WithPortShareRouter(router => router.Port = 0);
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var checks = host.Services.GetRequiredService<HealthCheckService>();
            var ready = await checks.CheckHealthAsync(c => c.Tags.Contains(HealthTags.Ready));
            var live = await checks.CheckHealthAsync(c => c.Tags.Contains(HealthTags.Live));
            Assert.Equal(HealthStatus.Healthy, ready.Status);
            Assert.Equal(HealthStatus.Healthy, live.Status);
            Assert.Contains("akkaportshare-router-ready", ready.Entries.Keys);
            Assert.Contains("akkaportshare-router-live", live.Entries.Keys);

            var listener = host.Services.GetRequiredService<ActorRegistry>().Get<PortShareListener>();
            await listener.Ask<Akka.Done>(RoutingProtocol.StopAccepting.Instance, TimeSpan.FromSeconds(5));

            ready = await checks.CheckHealthAsync(c => c.Tags.Contains(HealthTags.Ready));
            live = await checks.CheckHealthAsync(c => c.Tags.Contains(HealthTags.Live));
            Assert.Equal(HealthStatus.Unhealthy, ready.Status);
            Assert.Contains("not accepting", ready.Entries["akkaportshare-router-ready"].Description);
            Assert.Equal(HealthStatus.Healthy, live.Status);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
