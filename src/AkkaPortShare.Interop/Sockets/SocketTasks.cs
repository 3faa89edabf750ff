using System.Net.Sockets;

namespace AkkaPortShare.Interop;

/// <summary>
/// Socket calls for actors that pipe the result to themselves. A socket call can also throw before it returns a
/// task (e.g. the socket was disposed, or the runtime cannot register it for readiness); inside an actor that
/// would be a crash, so here every outcome arrives as the task's result or fault.
/// </summary>
internal static class SocketTasks
{
    /// <param name="cancel">Ends a waiting receive (OperationCanceledException); bytes not yet taken stay in the socket.</param>
    public static Task<int> Receive(Socket socket, Memory<byte> buffer, CancellationToken cancel = default)
    {
        try
        {
            return socket.ReceiveAsync(buffer, SocketFlags.None, cancel).AsTask();
        }
        catch (Exception e)
        {
            return Task.FromException<int>(e);
        }
    }

    public static Task<int> Send(Socket socket, IList<ArraySegment<byte>> buffers)
    {
        try
        {
            return socket.SendAsync(buffers, SocketFlags.None);
        }
        catch (Exception e)
        {
            return Task.FromException<int>(e);
        }
    }
}
