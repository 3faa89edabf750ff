using System.Net.Sockets;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Interop;
using AkkaPortShare.Worker.Sessions;

namespace AkkaPortShare.Worker.Listening;

/// <summary>
/// The worker's end of the router's hand-over channel. Sockets arrive through it; a socket whose next session
/// belongs elsewhere goes back through it, with the bytes already read, for a fresh routing decision.
/// </summary>
internal sealed class RouterChannel(Socket socket) : IDisposable
{
    private readonly Lock _sendLock = new();

    public Socket Socket { get; } = socket;

    /// <summary>Passes the connection back to the router and releases this process's copy.</summary>
    public void HandBack(Socket connection, ReadOnlySpan<byte> alreadyRead)
    {
        var payload = new byte[alreadyRead.Length + 1];
        var length = HandoverFrame.Write(payload, alreadyRead);
        lock (_sendLock) UnixHandover.Send(Socket, payload.AsSpan(0, length), connection);
        UnixHandover.ReleaseAfterHandover(connection);
    }

    /// <summary>Room for the bytes from a preamble's start in a <see cref="MoveSession"/>.</summary>
    public static int MaxMovedBytes => HandoverFrame.MaxMovedBytes(UnixHandover.MaxMessageSize);

    /// <summary>
    /// Passes a connection whose reliable session <paramref name="holder"/> holds back to the router (with every byte
    /// from its preamble's start, at most <see cref="MaxMovedBytes"/>) and releases this process's copy.
    /// </summary>
    public void MoveSession(Socket connection, SessionRouteKey holder, ReadOnlySpan<byte> fromPreambleStart)
    {
        var payload = new byte[fromPreambleStart.Length + UnixHandover.MaxMessageSize - MaxMovedBytes];
        var length = HandoverFrame.WriteSessionMove(payload, holder, fromPreambleStart);
        lock (_sendLock) UnixHandover.Send(Socket, payload.AsSpan(0, length), connection);
        UnixHandover.ReleaseAfterHandover(connection);
    }

    public void Dispose()
    {
        try { Socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
        Socket.Dispose();
    }
}
