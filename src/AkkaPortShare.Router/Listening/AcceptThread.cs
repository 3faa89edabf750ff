using System.Net.Sockets;
using Akka.Event;

namespace AkkaPortShare.Router.Listening;

/// <summary>
/// The listener's accept loop, on a thread of its own: it waits in poll(2) on the listen socket, accepts with a
/// synchronous accept, and gives each socket to <paramref name="take"/> (which hands it over, or passes it on)
/// before it accepts the next.
/// </summary>
/// <remarks>
/// <para>
/// Why a thread and not .NET's asynchronous accept: an asynchronous accept completes through two thread wake-ups
/// (the runtime's epoll thread, then the thread-pool thread that runs the continuation), a thread blocked in
/// poll through one. With defer-accept the accepted socket already holds its preamble, so at low concurrency that
/// one wake-up is the router's whole share of the connection's latency, in series with its client (README:
/// Performance). The listen socket is never used asynchronously, so .NET never registers it with its epoll set
/// and its accept is the plain system call.
/// </para>
/// <para>
/// Bounded as the asynchronous loops were: a socket is accepted only with a permit of <paramref name="gate"/>
/// (max-pending-accepts; the listener returns it when it takes a socket the thread could not hand over) and room
/// in <paramref name="room"/> (max-held-connections), so a flood waits in the kernel's backlog. The poll sleeps in
/// slices of <see cref="SliceMilliseconds"/> so that <paramref name="stopping"/> ends the thread without closing
/// the port (a shared port outlives the listener); a connection ready when it is cancelled is left to the kernel.
/// The accept itself blocks only if another process takes the connection between the poll and the accept (two
/// routers accepting on one inherited socket at once, which restarts never do): then until the next connection.
/// </para>
/// </remarks>
internal static class AcceptThread
{
    internal const int SliceMilliseconds = 200;

    /// <param name="take">Takes an accepted socket; it owns the permit from then on (see the remarks).</param>
    public static void Start(Socket listenSocket, AcceptPermits gate, HeldRoom room, Action<Socket> take,
        ILoggingAdapter log, CancellationToken stopping)
    {
        var thread = new Thread(() => Run(listenSocket, gate, room, take, log, stopping))
        {
            IsBackground = true,
            Name = "router-accept",
        };
        thread.Start();
    }

    private static void Run(Socket listenSocket, AcceptPermits gate, HeldRoom room, Action<Socket> take,
        ILoggingAdapter log, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                AcceptOne(listenSocket, gate, room, take, log, stopping);
            }
            catch (Exception e)
            {
                // A bug, never the client's doing: an exception escaping a thread would end the process, and the port
                // must stay served. take owns its socket and its permit, so nothing is lost here but the pause.
                log.Error(e, "The accept thread failed; accepting again in 100 ms");
                stopping.WaitHandle.WaitOne(100);
            }
        }
    }

    private static void AcceptOne(Socket listenSocket, AcceptPermits gate, HeldRoom room, Action<Socket> take,
        ILoggingAdapter log, CancellationToken stopping)
    {
        try
        {
            // Released when the listener takes the socket: accepted-but-not-taken sockets stay few under any load.
            gate.Wait(stopping);
        }
        catch (OperationCanceledException)
        {
            return; // the loop sees the cancellation
        }
        Socket? socket = null;
        try
        {
            // At max-held-connections nothing is accepted: new clients wait in the kernel backlog.
            room.Wait(stopping);
            socket = Accept(listenSocket, log, stopping);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            if (socket is null) gate.Release();
        }
        if (socket is not null) take(socket); // it owns the permit from here
    }

    // Null when nothing was accepted (stopping, or a failure the next round retries).
    private static Socket? Accept(Socket listenSocket, ILoggingAdapter log, CancellationToken stopping)
    {
        try
        {
            while (!listenSocket.Poll(SliceMilliseconds * 1000, SelectMode.SelectRead))
                if (stopping.IsCancellationRequested) return null;
            return stopping.IsCancellationRequested ? null : listenSocket.Accept();
        }
        catch (ObjectDisposedException)
        {
            return null; // the port closed (the listener stopped): the loop sees the cancellation
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
        {
            // Out of descriptors or memory: back off instead of spinning; the kernel backlog holds clients meanwhile.
            log.Error("Accept failed ({0}); retrying in 100 ms", e.SocketErrorCode);
            stopping.WaitHandle.WaitOne(100);
            return null;
        }
        catch (SocketException e)
        {
            // A connection reset while still in the backlog, another process sharing the port took it first, and the
            // like: that connection is gone, not the port.
            if (e.SocketErrorCode is not SocketError.WouldBlock) log.Debug("Accept failed for one connection: {0}", e.SocketErrorCode);
            return null;
        }
    }
}
