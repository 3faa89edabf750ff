using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

using static AkkaPortShare.IntegrationTests.Harness.OtherUsers;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>
/// A foreign Akka system on the router's host, run by another user (nobody), joins the router's remoting port and
/// sends what would stop, freeze or question its actors (aps-fuzz remote-attack): Kill, PoisonPill and Identify by
/// selection and to resolved references, every system message Akka.Remote carries, JSON payloads naming the
/// router's internal questions and a gadget type, and forged registrations for another worker's address (knowing
/// the registration secret, as another registrant would, but not the victim's channel token; and with a wrong one).
/// </summary>
public sealed class RemoteAttackSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Nothing_a_foreign_actor_system_sends_stops_the_router_changes_a_registration_or_tells_it_anything()
    {
        uint? attackerUser = Nobody;
        if (!CanSwitchUser)
        {
            output.WriteLine("Not root (or no setpriv): the attacker runs as this test's user instead of nobody.");
            attackerUser = null;
        }
        using var host = new PortShareHost();
        var router = await host.StartRouterAsync(extraHocon: "akka-port-share.router.registration-secret = \"attack-s3cret\"");
        var workerConfig = host.WriteConfig("akka-port-share.worker.registration-secret = \"attack-s3cret\"");
        var victim = await host.StartWorkerAsync("victim", ["--address", host.Address("v/"), "--config", workerConfig], "v/");
        var handover = (await victim.WaitForLineAsync("listening on .*, hand-over socket ", Timeout)).Split("hand-over socket ")[1].Trim(); // not the stale-socket cleanup line

        using var attacker = ManagedProcess.StartDllAs("attacker", attackerUser, Binaries.Fuzz, "remote-attack",
            "--router", host.RouterAddress, "--victim-address", host.Address("v/"), "--victim-handover", handover,
            "--victim-pid", victim.Id.ToString(), "--secret", "attack-s3cret");
        var summary = await attacker.WaitForLineAsync("remote attack: ", Timeout);
        Assert.True(await attacker.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the attacker did not finish");
        output.WriteLine(attacker.Output);
        output.WriteLine(string.Join("\n", router.Output.Split('\n').Where(l => l.Contains("Refused")).Select(l => l[..Math.Min(l.Length, 300)])));

        host.WithLogsOnFailure(() =>
        {
            // The attacker reached the router (the registry answered its forgeries) and learnt nothing.
            Assert.Matches("remote attack: [0-9]{2} messages sent, [0-9]+ replies, 0 leaks", summary);
            Assert.Equal(0, attacker.CountLines("could not send"));
            Assert.Equal(0, attacker.ExitCode);
            Assert.Contains("wrong registration-secret", attacker.Output);
            Assert.Contains("Reason = NotOwner", attacker.Output);      // the forged Unregister
            Assert.DoesNotContain("ActorIdentity", attacker.Output);

            // Each kind of attack left a refusal line naming the attacker's system.
            foreach (var refused in new[] { "Akka message \\[K\\]", "Akka message \\[PP\\]", "Akka message \\[ID\\]",
                         "JSON-typed message", "system message \\[Akka.Dispatch.SysMsg.Watch", "system message \\[Akka.Dispatch.SysMsg.Terminate",
                         "system message \\[Akka.Dispatch.SysMsg.Suspend", "system message \\[Akka.Dispatch.SysMsg.Recreate" })
                Assert.True(router.CountLines($"Refused {refused}.* from akka.tcp://attacker@127.0.0.1:") > 0, $"no refusal line for {refused}");
            Assert.Contains("Refused registration of", router.Output);
            Assert.DoesNotContain("stopped unexpectedly", router.Output);
            Assert.DoesNotContain("hijack/ for worker", router.Output);
            Assert.False(router.HasExited);
            Assert.DoesNotContain("Lost the router", victim.Output);
        });

        // The router still routes: the victim's address is still the victim's, and a new worker can register.
        using var client = await FramingClient.ConnectAsync(host.Port);
        Assert.Null(await client.OpenAsync(host.Via("v/svc")));
        Assert.Equal("victim", await client.CallAsync("whoami"));
        await host.StartWorkerAsync("after-attack", ["--address", host.Address("n/"), "--config", workerConfig], "n/");
        using var next = await FramingClient.ConnectAsync(host.Port);
        Assert.Null(await next.OpenAsync(host.Via("n/svc")));
        Assert.Equal("after-attack", await next.CallAsync("whoami"));
    }
}
