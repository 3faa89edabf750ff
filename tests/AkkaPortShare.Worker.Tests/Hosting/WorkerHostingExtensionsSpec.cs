using AkkaPortShare.Contracts.Hosting;
using Akka.Actor;
using Akka.Hosting;
using AkkaPortShare.Worker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using AkkaPortShare.TestSupport.Hosting;
using Microsoft.Extensions.Hosting;

namespace AkkaPortShare.Worker.Tests.Hosting;

/// <summary>
/// Settings given in C# go through the same check as a file: a bad option or a malformed address stops the host
/// with exit code 78 instead of failing its start with an exception (Akka.Hosting's stack traces, exit 134).
/// </summary>
public sealed class WorkerHostingExtensionsSpec
{
    private sealed class Idle : ReceiveActor;

    [Fact]
    public async Task Bad_options_stop_the_host_with_exit_code_78_and_start_no_worker()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAkka("WorkerHostingExtensionsSpec", akka => akka.WithPortShareWorker(worker =>
        {
            worker.Router = "127.0.0.1:8809"; // no protocol, no system name
            worker.Serve("net.tcp://+:8808/a/", Props.Create<Idle>()).Serve("net.tcp://+:0/b/", Props.Create<Idle>());
        }));
        using var host = builder.Build();

        var (exitCode, cause) = await SelfStoppingHost.StartAndAwaitStopAsync(host);

        Assert.Equal(WorkerExit.Configuration, exitCode);
        Assert.Equal("2 configuration problems", cause);
        Assert.False(host.Services.GetRequiredService<ActorRegistry>().TryGet<PortShareWorker>(out _));
    }

    [Fact]
    public void A_misspelt_block_under_akka_port_share_is_named_but_other_modules_and_owned_blocks_are_not()
    {
        var options = new WorkerOptions()
            .Serve("net.tcp://+:8808/a/", Props.Create<Idle>())
            .CheckSettings(_ => { }, ownedPath: "akka-port-share.orders.reliable-session");

        var problems = options.Problems(Akka.Configuration.ConfigurationFactory.ParseString("""
            akka-port-share.workers.max-connections = 5
            akka-port-share.router.port = 9999
            akka-port-share.service-model.operation-timeout = 5s
            akka-port-share.orders.reliable-session.ordered = off
            """), out _);

        Assert.Equal(["akka-port-share.workers is not a block of AkkaPortShare; did you mean akka-port-share.worker?"], problems);
    }
}
