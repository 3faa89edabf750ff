using Akka.Actor;
using AkkaPortShare.Worker;

namespace AkkaPortShare.Samples.Echo;

/// <summary>Echoes every message of every session back on the same connection.</summary>
public sealed class EchoService : ReceiveActor
{
    public EchoService()
    {
        Receive<FramingSession.SessionOpened>(_ => { });
        Receive<FramingSession.MessageReceived>(m => m.Session.Tell(new FramingSession.Send(m.Payload)));
        Receive<FramingSession.SessionClosed>(_ => { });
    }
}
