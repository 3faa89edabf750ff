using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Contracts.Hosting;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Hosting;
using Microsoft.Extensions.DependencyInjection;
using AkkaPortShare.TestSupport.Hosting;
using Microsoft.Extensions.Hosting;

namespace AkkaPortShare.Router.Tests.Hosting;

/// <summary>
/// Settings given in C# go through the same check as the operator's file: a bad option stops the host with exit
/// code 78, every problem named, and starts no router actor (instead of Akka.Hosting's stack traces, exit 134).
/// </summary>
public sealed class RouterHostingExtensionsSpec
{
    [Fact]
    public async Task Bad_options_stop_the_host_with_exit_code_78_and_start_no_router()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAkka("RouterHostingExtensionsSpec", akka =>
        {
            akka.AddHocon("""akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }""", HoconAddMode.Prepend);
            akka.WithPortShareRouter(router =>
            {
                router.Port = 70000;
                router.ListenAddress = "not-an-address";
            });
        });
        using var host = builder.Build();

        var (exitCode, cause) = await SelfStoppingHost.StartAndAwaitStopAsync(host);

        Assert.Equal(ProcessExit.Configuration, exitCode);
        Assert.Equal("2 configuration problems", cause);
        Assert.False(host.Services.GetRequiredService<ActorRegistry>().TryGet<PortShareListener>(out _));
    }

    [Fact]
    public void The_registry_path_workers_address_is_the_one_selection_path_remoting_lets_in()
    {
        // reference.conf cannot take the path from RegistryProtocol: this keeps the two in step.
        Assert.Equal([RegistryProtocol.RegistryPath],
            RouterSettings.DefaultConfig().GetStringList("akka.remote.trusted-selection-paths"));
        Assert.Equal("/user/" + RouterHostingExtensions.RegistryName, RegistryProtocol.RegistryPath);
    }
}
