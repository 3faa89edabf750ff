using System.Net.Sockets;
using AkkaPortShare.Protocol.Handover;
using AkkaPortShare.Interop;
using AkkaPortShare.Contracts.Registration;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.Router.Registration;

/// <summary>
/// The admission check of a worker seen for the first time, run off the registry actor: connect to the hand-over
/// socket it names, read the listening process's pid and user from the kernel (SO_PEERCRED), and send the channel
/// token through it. The path is the registrant's choice, so every step may stall (a listener that never accepts
/// fills its backlog, one that never reads fills its buffer): nothing here blocks a thread, and the whole check is
/// bounded by admission-timeout. The registry gets one <see cref="Outcome"/> back as a message.
/// </summary>
internal static class HandoverSocketCheck
{
    public abstract record Outcome;

    /// <summary>The socket belongs to the claimed pid and an allowed user, and the token went through it.</summary>
    public sealed record Passed(Socket Channel, uint UserId, SharedSecret Token) : Outcome;

    /// <summary>The socket cannot be used at all (missing, refused, broken): the worker may still be relayed.</summary>
    public sealed record Unreachable(string Problem) : Outcome;

    /// <summary>The check itself refuses the worker (wrong pid, user not allowed, did not complete in time).</summary>
    public sealed record Refused(RefusalReason Reason, string Message) : Outcome;

    // Polling steps while the socket's backlog or buffer is full: short first, as a busy worker makes room quickly.
    // Not settings: admission-timeout bounds the whole check, and these only shape how it spends that time.
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromMilliseconds(100);

    public static async Task<Outcome> RunAsync(UnixDomainSocketEndPoint endPoint, string path, int claimedPid,
        IReadOnlySet<uint> allowedUsers, TimeSpan timeout, CancellationToken stopping)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        deadline.CancelAfter(timeout);
        Socket? channel = null;
        try
        {
            channel = await ConnectAsync(endPoint, deadline.Token).ConfigureAwait(false);
            var peer = UnixHandover.GetPeerCredentials(channel);
            if (peer.ProcessId != claimedPid)
                return Refuse(ref channel, RefusalReason.NotAuthorized,
                    $"The hand-over socket {path} belongs to pid {peer.ProcessId}, not to the registering pid {claimedPid}.");
            if (!allowedUsers.Contains(peer.UserId))
                return Refuse(ref channel, RefusalReason.NotAuthorized,
                    $"Worker pid {peer.ProcessId} runs as user {UnixUsers.Describe(peer.UserId)}, which is not in allowed-worker-users " +
                    $"({string.Join(", ", allowedUsers.Order().Select(UnixUsers.Describe))}).");
            var token = SharedSecret.NewToken();
            await SendAsync(channel, HandoverFrame.WriteToken(token.Value!), deadline.Token).ConfigureAwait(false);
            var passed = new Passed(channel, peer.UserId, token);
            channel = null;
            return passed;
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            return new Refused(RefusalReason.HandoverUnavailable,
                $"The check of hand-over socket {path} did not complete within admission-timeout {timeout} " +
                "(it does not accept connections, or does not read them).");
        }
        catch (SocketException e)
        {
            return new Unreachable($"its hand-over socket {path} cannot be reached ({e.SocketErrorCode})");
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            return new Unreachable($"its hand-over socket {path} is not usable ({e.Message})");
        }
        finally
        {
            channel?.Dispose();
        }
    }

    private static Refused Refuse(ref Socket? channel, RefusalReason reason, string message)
    {
        channel!.Dispose();
        channel = null;
        return new Refused(reason, message);
    }

    // A non-blocking connect; a Unix socket whose backlog is full answers EAGAIN at once (where a blocking connect
    // would wait), so wait and try again, on a new socket: .NET does not reuse one after a failed connect.
    private static async Task<Socket> ConnectAsync(UnixDomainSocketEndPoint endPoint, CancellationToken deadline)
    {
        var retry = FirstRetry;
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(endPoint, deadline).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.TryAgain)
            {
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            await Task.Delay(retry, deadline).ConfigureAwait(false);
            retry = Min(retry * 2, LongestRetry);
        }
    }

    // The token is one small message on a fresh socket, so it nearly always goes at once; a peer that keeps its
    // buffer full is polled (without a waiting thread) until the deadline.
    private static async Task SendAsync(Socket channel, byte[] frame, CancellationToken deadline)
    {
        var retry = FirstRetry;
        while (!UnixHandover.TrySend(channel, frame))
        {
            await Task.Delay(retry, deadline).ConfigureAwait(false);
            retry = Min(retry * 2, LongestRetry);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
