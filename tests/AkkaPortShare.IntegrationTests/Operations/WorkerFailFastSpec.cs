using System.Diagnostics;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.Operations;

/// <summary>
/// A worker (the echo sample, a real process) that cannot do its job ends with one line naming the cause and the
/// setting, and a sysexits.h code: 78 for its configuration or a malformed address (every problem named, no stack
/// trace), 76 for a registration the router refuses, 69 for a router it cannot reach within start-timeout.
/// </summary>
public sealed class WorkerFailFastSpec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_worker_given_a_malformed_address_exits_78_naming_it_before_anything_starts()
    {
        using var host = new PortShareHost(); // no router: nothing may be tried

        using var worker = host.StartWorkerAs("bad-address", null, ["--address", "http://localhost/echo/", "--address", host.Address("ok/")]);

        Assert.True(await worker.WaitForExitAsync(Timeout), worker.Output);
        Assert.Equal(78, worker.ExitCode);
        Assert.Contains("Invalid configuration: Serve: 'http://localhost/echo/' is not a valid net.tcp base address", worker.Output);
        Assert.Contains("The worker does not start (1 configuration problem); it exits with code 78 (EX_CONFIG)", worker.Output);
        AssertNoStackTrace(worker);
        Assert.DoesNotContain("Worker pid", worker.Output); // the worker actor never started
    }

    [Fact]
    public async Task A_worker_with_typos_and_bad_values_in_its_file_exits_78_naming_every_problem()
    {
        using var host = new PortShareHost();
        var config = host.WriteConfig("""
            akka-port-share.worker {
              max-conections = 5
              data-endpoint.port = 70000
              start-timeout = soon
            }
            akka-port-share.service-model.max-reply-sise = 1k
            akka-port-share.service-modle.operation-timeout = 1s
            akka-port-share.reliable-session { ordered = maybe, reliable-messaging-version = wsrm12 }
            my-endpoint.reliable-session { max-transfer-window-size = 5000, shutdown-drain-timout = 1s }
            """);

        using var worker = host.StartWorkerAs("typos", null,
            ["--wcf-reliable", host.Address("wcf/"), "my-endpoint.reliable-session", "--config", config]);

        Assert.True(await worker.WaitForExitAsync(Timeout), worker.Output);
        Assert.Equal(78, worker.ExitCode);
        string[] problems =
        [
            "akka-port-share.worker.max-conections is not a setting; did you mean max-connections?",
            "akka-port-share.worker.data-endpoint.port = 70000: expected a whole number from 0 to 65535",
            "akka-port-share.worker.start-timeout = soon: expected a duration of zero or more",
            "akka-port-share.service-model.max-reply-sise is not a setting; did you mean max-reply-size?",
            "akka-port-share.service-modle is not a block of AkkaPortShare; did you mean akka-port-share.service-model?",
            "akka-port-share.reliable-session.ordered = maybe: expected on or off",
            "akka-port-share.reliable-session.reliable-messaging-version = wsrm12: expected one of any, wsrm-feb2005, wsrm11",
            "my-endpoint.reliable-session.max-transfer-window-size = 5000: expected a whole number from 1 to 4096",
            "my-endpoint.reliable-session.shutdown-drain-timout is not a setting; did you mean shutdown-drain-timeout?",
        ];
        foreach (var problem in problems)
            Assert.Equal(1, worker.CountLines($"Invalid configuration: {PortShareHost.Regex(problem)}"));
        Assert.Equal(problems.Length, worker.CountLines("Invalid configuration: "));
        Assert.Contains($"The worker does not start ({problems.Length} configuration problems); it exits with code 78", worker.Output);
        AssertNoStackTrace(worker);
    }

    [Fact]
    public async Task A_worker_whose_address_another_worker_holds_exits_76_naming_the_address_and_the_reason()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        using var owner = await host.StartWorkerAsync("owner", "a/");

        using var second = host.StartWorkerProcess("second", "a/");

        Assert.True(await second.WaitForExitAsync(Timeout), second.Output);
        Assert.Equal(76, second.ExitCode);
        var line = await second.WaitForLineAsync("Registration of .* refused", TimeSpan.Zero);
        Assert.Contains($"Registration of {host.Address("a/")} refused by the router {host.RouterAddress} (AddressAlreadyInUse)", line);
        Assert.Contains("the worker exits with code 76 (akka-port-share.worker.exit-on-refusal = on)", line);
        AssertNoStackTrace(second);
        Assert.False(owner.HasExited); // the owner keeps its address
    }

    [Fact]
    public async Task A_worker_that_cannot_reach_the_router_exits_69_after_start_timeout()
    {
        using var host = new PortShareHost(); // its router never starts: nobody listens on RouterAddress
        var config = host.WriteConfig("akka-port-share.worker.start-timeout = 2s");
        var clock = Stopwatch.StartNew();

        using var worker = host.StartWorkerAs("alone", null, ["--address", host.Address("x/"), "--config", config]);

        Assert.True(await worker.WaitForExitAsync(Timeout), worker.Output);
        Assert.Equal(69, worker.ExitCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"exited after {clock.Elapsed}, before start-timeout");
        var line = await worker.WaitForLineAsync("did not register", TimeSpan.Zero);
        Assert.Contains($"The router {host.RouterAddress} did not register {host.Address("x/")} within 00:00:02 " +
            "(akka-port-share.worker.start-timeout; last answer: none, the router is unreachable); the worker exits with code 69", line);
        AssertNoStackTrace(worker);
    }

    // "   at Namespace.Type.Method(...)": what an unhandled exception (or Akka.Hosting's start failure) prints.
    private static void AssertNoStackTrace(ManagedProcess process)
    {
        Assert.Equal(0, process.CountLines(@"^\s+at \S+\(.*\)"));
        Assert.DoesNotContain("Unhandled exception", process.Output);
        Assert.DoesNotContain("Unable to start AkkaHostedService", process.Output);
    }
}
