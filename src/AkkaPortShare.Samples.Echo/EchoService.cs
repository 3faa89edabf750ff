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

    public EchoService(string identity)
    {
        var identityBytes = Encoding.UTF8.GetBytes(identity);
        Receive<FramingSession.SessionOpened>(_ => { });
        Receive<FramingSession.MessageReceived>(m => m.Session.Tell(
            new FramingSession.Send(m.Payload.AsSpan().SequenceEqual(WhoAmI) ? identityBytes : m.Payload)));
        // Streamed (singleton mode) sessions: the reply streams back while the request still arrives.
        Receive<FramingSession.MessageStreamReceived>(m => m.Session.Tell(new FramingSession.SendStream(m.Body)));
        Receive<FramingSession.SessionClosed>(_ => { });
    }
}
