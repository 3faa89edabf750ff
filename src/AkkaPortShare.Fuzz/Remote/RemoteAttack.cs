using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch.SysMsg;
using AkkaPortShare.Contracts.Registration;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.Fuzz.Remote;

/// <param name="Router">The router's actor system, e.g. akka.tcp://akkaportshare@127.0.0.1:8809.</param>
/// <param name="VictimAddress">A base address another worker holds: the forged commands name it.</param>
/// <param name="VictimHandoverPath">That worker's hand-over socket, when known.</param>
/// <param name="Secret">The router's registration-secret, when the attacker knows it (another admitted registrant
/// does): then the forgeries meet the owner and token checks, not only the secret check.</param>
public sealed record RemoteAttackOptions(string Router, string VictimAddress, string? VictimHandoverPath, int VictimPid,
    string? Secret = null)
{
    public TimeSpan ReplyWait { get; init; } = TimeSpan.FromSeconds(3);
}

public sealed record RemoteAttackReport(int Sent, IReadOnlyList<string> Replies, IReadOnlyList<string> Leaks)
{
    public override string ToString() =>
        $"remote attack: {Sent} messages sent, {Replies.Count} replies, {Leaks.Count} leaks" +
        string.Concat(Replies.Select(r => $"\n  reply: {r}")) + string.Concat(Leaks.Select(l => $"\n  LEAK: {l}"));
}

/// <summary>
/// A foreign Akka system on the router's host, as any local user can run one: it joins the router's remoting port
/// and tries to stop, freeze, reconfigure or question the router's actors, and to register or unregister an address
/// another worker holds. Every reply it gets is recorded; a leak is one that tells it something it should not
/// know (an actor reference through Identify, a registration, any JSON answer).
/// </summary>
public static class RemoteAttack
{
    private const string Registry = "/user/port-share-registry";
    private const string Listener = "/user/port-share-listener";
    private const string FaultDrains = "/user/port-share-fault-drains";

    public static async Task<RemoteAttackReport> RunAsync(RemoteAttackOptions options, Action<string> log)
    {
        var config = ConfigurationFactory.ParseString("""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka.actor.serializers.json = "AkkaPortShare.Fuzz.Remote.JsonForgery, aps-fuzz"
            akka.loglevel = WARNING
            """).WithFallback(RegistryProtocolConfig.Default());
        using var system = ActorSystem.Create("attacker", config);
        var replies = new ConcurrentQueue<(object Message, IActorRef Sender)>();
        var inbox = system.ActorOf(Props.Create(() => new Inbox(replies)), "inbox");
        var provider = ((ExtendedActorSystem)system).Provider;
        IInternalActorRef Resolve(string path) => (IInternalActorRef)provider.ResolveActorRef($"{options.Router}{path}");
        var sent = 0;
        void Send(string what, Action send)
        {
            try
            {
                send();
                sent++;
                log($"sent {what}");
            }
            catch (Exception e)
            {
                log($"could not send {what}: {e.Message}");
            }
        }

        var forgedEndpoint = new WorkerEndpoint(options.VictimPid, "localhost", options.VictimHandoverPath, "127.0.0.1", 1);
        var registrySelection = system.ActorSelection($"{options.Router}{Registry}");
        // Ordinary messages first: a refused system message may reset this association for a few seconds.
        var victim = options.VictimAddress;
        Send("forged Register of the victim's address (its hand-over path, a made-up token)", () =>
            registrySelection.Tell(new Register(victim, forgedEndpoint, options.Secret, "forged-token"), inbox));
        Send("forged Register of a new address with the victim's hand-over path (no token)", () =>
            registrySelection.Tell(new Register(victim + "hijack/", forgedEndpoint, options.Secret), inbox));
        Send("forged Unregister of the victim's address (a made-up token)", () =>
            registrySelection.Tell(new Unregister(victim, options.Secret, "forged-token"), inbox));
        Send("forged Register of the victim's address with a wrong secret", () =>
            registrySelection.Tell(new Register(victim, forgedEndpoint, "wrong-secret"), inbox));
        Send("forged Unregister of the victim's address with a wrong secret", () =>
            registrySelection.Tell(new Unregister(victim, "wrong-secret"), inbox));
        foreach (var path in new[] { Registry, Listener, FaultDrains, "/system/remote-watcher", "/user" })
            Send($"Identify by selection to {path}", () => system.ActorSelection($"{options.Router}{path}").Tell(new Identify(path), inbox));
        Send("Kill by selection to the registry", () => registrySelection.Tell(Kill.Instance, inbox));
        Send("PoisonPill by selection to the registry", () => registrySelection.Tell(PoisonPill.Instance, inbox));
        Send("GetRegistrations (JSON) by selection to the registry", () => registrySelection.Tell(
            new ForgedJson("""{"$type":"AkkaPortShare.Router.RouterProtocol+GetRegistrations, AkkaPortShare.Router"}"""), inbox));
        foreach (var path in new[] { Registry, Listener, FaultDrains })
        {
            var target = Resolve(path);
            Send($"Identify to {path}", () => target.Tell(new Identify(path), inbox));
            Send($"GetRegistrations (JSON) to {path}", () => target.Tell(
                new ForgedJson("""{"$type":"AkkaPortShare.Router.RouterProtocol+GetRegistrations, AkkaPortShare.Router"}"""), inbox));
            Send($"GetListenerStatus (JSON) to {path}", () => target.Tell(
                new ForgedJson("""{"$type":"AkkaPortShare.Router.RouterProtocol+GetListenerStatus, AkkaPortShare.Router"}"""), inbox));
            Send($"a gadget-shaped JSON payload to {path}", () => target.Tell(
                new ForgedJson("""{"$type":"System.IO.FileInfo, System.IO.FileSystem","fileName":"/etc/passwd"}"""), inbox));
            Send($"Kill to {path}", () => target.Tell(Kill.Instance, inbox));
            Send($"PoisonPill to {path}", () => target.Tell(PoisonPill.Instance, inbox));
        }
        await Task.Delay(options.ReplyWait);

        // A refused system message ends the association that carried it (Akka.Remote drops and gates the sender),
        // so each kind comes from an actor system of its own, to each core actor in turn.
        string[] targets = [Registry, Listener, FaultDrains];
        for (var kind = 0; kind < SystemMessageKinds; kind++)
        {
            using var attacker = ActorSystem.Create("attacker", config);
            var attackerProvider = ((ExtendedActorSystem)attacker).Provider;
            var path = targets[kind % targets.Length];
            var target = (IInternalActorRef)attackerProvider.ResolveActorRef($"{options.Router}{path}");
            var watcher = (IInternalActorRef)attacker.ActorOf(Props.Create(() => new Inbox(replies)), "watcher");
            var fakeWatcher = (IInternalActorRef)attackerProvider.ResolveActorRef($"{options.Router}/user/some-watcher");
            var message = SystemMessage(kind, target, watcher, fakeWatcher);
            Send($"system message {message.GetType().Name} to {path}", () => target.SendSystemMessage(message));
            // Long enough for the association to be made and the message to go out on a loaded machine (the
            // handshake alone took over 300 ms under a load average of 25); the router's refusal line shows it arrived.
            await Task.Delay(TimeSpan.FromMilliseconds(1500));
            await attacker.Terminate();
        }
        await Task.Delay(options.ReplyWait);

        var replyLines = replies.Select(r => $"{r.Message} from {r.Sender.Path}").ToList();
        var leaks = replies
            .Where(r => r.Message is ActorIdentity { Subject: not null } or Registered or Unregistered)
            .Select(r => $"{r.Message} from {r.Sender.Path}")
            .Concat(JsonForgery.Received.Select(json => $"JSON {json}"))
            .ToList();
        await system.Terminate();
        return new RemoteAttackReport(sent, replyLines, leaks);
    }

    private const int SystemMessageKinds = 11;

    // Every system message Akka.Remote serializes, shaped to do the most harm if it were let in.
    private static SystemMessage SystemMessage(int kind, IInternalActorRef target, IInternalActorRef watcher,
        IInternalActorRef fakeWatcher) => kind switch
    {
        0 => new Watch(target, watcher),
        1 => new Watch(target, fakeWatcher),
        2 => new Unwatch(target, watcher),
        3 => new Suspend(),
        4 => new Resume(null!),
        5 => new Recreate(new Exception("recreate from the network")),
        6 => new Failed(target, new Exception("failed from the network"), 0),
        7 => new Supervise(watcher, false),
        8 => new DeathWatchNotification(fakeWatcher, true, false),
        9 => new Terminate(),
        _ => new Create(),
    };

    private sealed class Inbox : ReceiveActor
    {
        public Inbox(ConcurrentQueue<(object, IActorRef)> replies) => ReceiveAny(m => replies.Enqueue((m, Sender)));
    }
}
