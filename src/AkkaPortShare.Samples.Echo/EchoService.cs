using System.Text;
using Akka.Actor;
using AkkaPortShare.Worker;

namespace AkkaPortShare.Samples.Echo;

/// <summary>
/// Echoes every message of every session back on the same connection. One exception, for operators and tests
/// who need to see which worker answered: the message "whoami" is answered with this worker's identity.
/// </summary>
public sealed class EchoService : ReceiveActor
{
    private static readonly byte[] WhoAmI = "whoami"u8.ToArray();
    private const int InHand = 8;

    public EchoService(string identity)
    {
        var identityBytes = Encoding.UTF8.GetBytes(identity);
        // Flow control: a session delivers at most InHand messages this actor has not answered yet, so a client that
        // sends faster than it is answered waits in TCP, not in this actor's mailbox (all sessions share it).
        // This actor handles every session itself: it accepts each with itself, so their messages come here.
        Receive<FramingSession.SessionOpened>(o =>
        {
            o.Session.Tell(new FramingSession.Accept(Self));
            o.Session.Tell(new FramingSession.RequestMessages(InHand));
        });
        Receive<FramingSession.MessageReceived>(m =>
        {
            m.Session.Tell(new FramingSession.Send(m.Payload.AsSpan().SequenceEqual(WhoAmI) ? identityBytes : m.Payload));
            m.Session.Tell(new FramingSession.RequestMessages(1));
        });
        // Streamed (singleton mode) sessions: the reply streams back while the request still arrives.
        Receive<FramingSession.MessageStreamReceived>(m => m.Session.Tell(new FramingSession.SendStream(m.Body)));
        Receive<FramingSession.SessionClosed>(_ => { });
    }
}
