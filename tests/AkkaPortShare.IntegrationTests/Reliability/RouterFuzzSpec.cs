using System.Net;
using AkkaPortShare.TestSupport.Fuzz.Cases;
using AkkaPortShare.TestSupport.Fuzz.Live;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>
/// The fast slice of the live fuzz run (src/AkkaPortShare.Fuzz/run.sh fires 1,000,000): generated and mutated
/// preambles against a real router with one echo worker, every answer checked against the oracle, while a
/// legitimate session must be served every 250 cases.
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class RouterFuzzSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task The_router_answers_3000_fuzzed_preambles_as_the_oracle_expects_and_keeps_serving()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync();
        await host.StartWorkerAsync("fuzz-worker", "fuzz/");
        var target = new FuzzTarget(host.Port);
        var options = new RouterFuzzOptions(new IPEndPoint(IPAddress.Loopback, host.Port), target, Seed: 2026, First: 0, Cases: 3000)
        {
            Concurrency = 8,
            ProbeEvery = 250,
        };

        var report = await RouterFuzzer.RunAsync(new CaseSource(target, options.Seed), options);

        output.WriteLine(report.ToString());
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(3000, report.Cases);
        foreach (var answer in new[] { "clean close", "fault EndpointNotFound", "fault UnsupportedMode", "fault UnsupportedVersion", "fault ContentTypeInvalid", "PreambleAck" })
            Assert.True(report.ByOutcome.ContainsKey(answer), $"no case was answered with {answer}");
        Assert.False(host.Router!.HasExited);
        // Refusals are logged: faults with their reason, closes with theirs.
        Assert.True(host.Router.CountLines("Bad preamble from .* answering") > 0);
        Assert.True(host.Router.CountLines("Closing connection from .*: bad preamble") > 0);
    }
}
