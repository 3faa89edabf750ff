using System.Buffers;
using System.Net.Sockets;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Framing;
using AkkaPortShare.Handover;
using AkkaPortShare.Interop;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Transport;
using static AkkaPortShare.Router.RoutingProtocol;

namespace AkkaPortShare.Router.Handover;

/// <summary>
/// The router's end of one worker's Unix-domain hand-over channel. Routed sockets go out through it (SCM_RIGHTS)
/// and the router's copy is released at once, so no byte of the session passes the router. The channel also
/// brings back sockets the worker hands back for re-routing, and its end-of-file is the fastest sign that the
/// worker process died. System calls run off the actor dispatcher: one sender task, one receiver thread.
/// </summary>
internal sealed class WorkerGatewayActor : ReceiveActor
{
    private sealed record ChannelClosed(string Reason);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Socket _channel;
    private readonly int _workerPid;
    private readonly RouterSettings _settings;
    private readonly IActorRef _drains;
    private readonly Channel<HandOver> _outbox = Channel.CreateUnbounded<HandOver>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();

    public static Props Props(Socket channel, int workerPid, RouterSettings settings, IActorRef drains) =>
        Akka.Actor.Props.Create(() => new WorkerGatewayActor(channel, workerPid, settings, drains));

    public WorkerGatewayActor(Socket channel, int workerPid, RouterSettings settings, IActorRef drains)
    {
        _drains = drains;
        _settings = settings;
        _channel = channel;
        _workerPid = workerPid;
        Receive<HandOver>(h =>
        {
            if (!_outbox.Writer.TryWrite(h)) RefuseDispatch(h, "the hand-over channel is closing");
        });
        Receive<ChannelClosed>(c =>
        {
            Context.Parent.Tell(new WorkerChannelClosed(c.Reason));
            Context.Stop(Self);
        });
    }

    protected override void PreStart()
    {
        var self = Self;
        var parent = Context.Parent;
        _ = Task.Run(() => SendLoop(self));
        new Thread(() => ReceiveLoop(self, parent)) { IsBackground = true, Name = $"handover-recv-{_workerPid}" }.Start();
    }

    private async Task SendLoop(IActorRef self)
    {
        var payload = new byte[UnixHandover.MaxMessageSize];
        try
        {
            await foreach (var handOver in _outbox.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    var length = HandoverFrame.Write(payload, handOver.AlreadyRead);
                    UnixHandover.Send(_channel, payload.AsSpan(0, length), handOver.Socket, _stopping.Token);
                    UnixHandover.ReleaseAfterHandover(handOver.Socket);
                }
                catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
                {
                    RefuseDispatch(handOver, e.Message);
                    self.Tell(new ChannelClosed($"passing a socket failed: {e.Message}"));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        // Whatever is still queued never reached the worker: tell those clients rather than leave them hanging.
        while (_outbox.Reader.TryRead(out var left)) RefuseDispatch(left, "the worker's hand-over channel closed");
    }

    private void ReceiveLoop(IActorRef self, IActorRef registry)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(UnixHandover.MaxMessageSize);
        try
        {
            while (true)
            {
                var length = UnixHandover.Receive(_channel, buffer, out var socket, _stopping.Token);
                if (length == 0)
                {
                    socket?.Dispose();
                    self.Tell(new ChannelClosed("its hand-over channel closed"));
                    return;
                }
                if (socket is not null && HandoverFrame.TryRead(buffer.AsSpan(0, length), out var alreadyRead))
                {
                    registry.Tell(new Reroute(socket, alreadyRead.ToArray()));
                }
                else
                {
                    socket?.Dispose();
                    _log.Warning("Worker pid {0} sent a hand-over message that is not a connection; ignored", _workerPid);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            self.Tell(new ChannelClosed($"its hand-over channel failed: {e.Message}"));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void RefuseDispatch(HandOver handOver, string reason)
    {
        _log.Warning("Could not pass {0} to worker pid {1} ({2}): ConnectionDispatchFailed", handOver, _workerPid, reason);
        _drains.Tell(new DrainAfterFault(handOver.Socket, FramingFaults.ConnectionDispatchFailed, handOver.Via));
    }

    protected override void PostStop()
    {
        _outbox.Writer.TryComplete();
        _stopping.Cancel();
        try { _channel.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
        _channel.Dispose();
    }
}
