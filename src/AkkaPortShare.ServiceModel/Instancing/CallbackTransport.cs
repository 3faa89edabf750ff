using System.Collections.Concurrent;
using System.ServiceModel;
using System.ServiceModel.Channels;
using Akka.Actor;
using AkkaPortShare.ServiceModel.Contracts;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Instancing;

/// <summary>
/// An in-process transport under a typed callback proxy: each message the proxy sends becomes an
/// <see cref="InvokeCallback"/> to the session actor, and that actor's answer becomes the reply message the proxy
/// reads. So serialization of arguments and results, and the mapping of a fault reply to FaultException&lt;T&gt; or
/// FaultException, are WCF's own, done by the proxy. Each channel is one session's (the session actor is the target).
/// </summary>
internal sealed class CallbackTransport : TransportBindingElement
{
    public const string UriScheme = "akka-callback";

    /// <summary>Which session actor a channel about to be made for an address talks to.</summary>
    public sealed class Targets
    {
        private readonly ConcurrentDictionary<Uri, (IActorRef Session, string SessionId)> _pending = new();

        public void Add(Uri address, IActorRef session, string sessionId) => _pending[address] = (session, sessionId);

        public (IActorRef Session, string SessionId) Take(Uri address) =>
            _pending.TryRemove(address, out var target) ? target
                : throw new InvalidOperationException($"No session for the callback channel {address}.");
    }

    private readonly Targets _targets;
    private readonly ContractMap _contract;
    private readonly IReadOnlyDictionary<string, string> _operationsByAction;

    /// <param name="operationsByAction">The callback operations' names by their request action.</param>
    public CallbackTransport(Targets targets, ContractMap contract, IReadOnlyDictionary<string, string> operationsByAction)
    {
        _targets = targets;
        _contract = contract;
        _operationsByAction = operationsByAction;
    }

    private CallbackTransport(CallbackTransport other) : base(other)
    {
        _targets = other._targets;
        _contract = other._contract;
        _operationsByAction = other._operationsByAction;
    }

    public override string Scheme => UriScheme;

    public override BindingElement Clone() => new CallbackTransport(this);

    // Either request shape (the contract's session mode picks): the channel is a session channel either way, so
    // OperationContext.SessionId finds the session's id on it.
    public override bool CanBuildChannelFactory<TChannel>(BindingContext context) =>
        typeof(TChannel) == typeof(IRequestSessionChannel) || typeof(TChannel) == typeof(IRequestChannel);

    public override IChannelFactory<TChannel> BuildChannelFactory<TChannel>(BindingContext context)
    {
        if (!CanBuildChannelFactory<TChannel>(context))
            throw new NotSupportedException($"The callback transport makes request channels, not {typeof(TChannel).Name}.");
        return new Factory<TChannel>(this, context.Binding);
    }

    private sealed class Factory<TChannel>(CallbackTransport transport, IDefaultCommunicationTimeouts timeouts)
        : ChannelFactoryBase<TChannel>(timeouts)
    {
        protected override TChannel OnCreateChannel(EndpointAddress address, Uri via)
        {
            var (session, sessionId) = transport._targets.Take(address.Uri);
            return (TChannel)(object)new Channel(this, transport, address, via, session, sessionId);
        }

        protected override void OnOpen(TimeSpan timeout) { }
        protected override IAsyncResult OnBeginOpen(TimeSpan timeout, AsyncCallback callback, object state) => Apm.Done(callback, state);
        protected override void OnEndOpen(IAsyncResult result) { }
    }

    private sealed class Session(string id) : IOutputSession
    {
        public string Id => id;
    }

    private sealed class Channel(ChannelManagerBase factory, CallbackTransport transport, EndpointAddress address, Uri via, IActorRef session,
        string sessionId) : ChannelBase(factory), IRequestSessionChannel
    {
        // Aborting the channel (its session ended) ends a wait for the client's answer at once.
        private readonly CancellationTokenSource _aborted = new();

        public EndpointAddress RemoteAddress => address;
        public Uri Via => via;
        public IOutputSession Session { get; } = new Session(sessionId);

        public Message? Request(Message message) => Request(message, DefaultSendTimeout);
        public Message? Request(Message message, TimeSpan timeout) => SendAsync(message, timeout).GetAwaiter().GetResult();
        public IAsyncResult BeginRequest(Message message, AsyncCallback callback, object state) =>
            BeginRequest(message, DefaultSendTimeout, callback, state);
        public IAsyncResult BeginRequest(Message message, TimeSpan timeout, AsyncCallback callback, object state) =>
            Apm.Begin(SendAsync(message, timeout), callback, state);
        public Message? EndRequest(IAsyncResult result) => ((Task<Message?>)result).GetAwaiter().GetResult();

        private async Task<Message?> SendAsync(Message message, TimeSpan timeout)
        {
            ThrowIfDisposedOrNotOpen();
            OperationMap operation;
            InvokeCallback call;
            var messageId = message.Headers.MessageId;
            var version = message.Version;
            using (message)
            {
                var action = message.Headers.Action ?? "";
                if (!transport._operationsByAction.TryGetValue(action, out var name) || !transport._contract.TryGetCallback(name, out var found))
                    throw new ProtocolException($"{action} is not an action of {transport._contract.ContractName}'s callback contract.");
                operation = found!;
                call = new InvokeCallback(operation.Name, OperationBody.ReadArguments(message.GetReaderAtBodyContents(),
                    operation.WrapperName, operation.WrapperNamespace, operation.Parts));
            }
            if (operation.IsOneWay)
            {
                session.Tell(call, ActorRefs.NoSender);
                return null;
            }

            // The service's concurrency rules for a callout from one of its calls (none outside a call).
            var scope = ServiceCallScope.Current;
            scope?.ThrowIfItWouldDeadlock(sessionId);
            object answer;
            try
            {
                answer = scope is null
                    ? await session.Ask<object>(call, timeout, _aborted.Token).ConfigureAwait(false)
                    : await scope.CalloutAsync(() => session.Ask<object>(call, timeout, _aborted.Token), timeout).ConfigureAwait(false);
            }
            catch (FaultException fault)
            {
                return Reply(FaultMessage(version, fault), messageId);
            }
            catch (CommunicationException)
            {
                throw;
            }
            catch (OperationCanceledException) when (_aborted.IsCancellationRequested)
            {
                throw new CommunicationObjectAbortedException(
                    $"The session {sessionId} ended while the callback {operation.Name} waited for the client's answer.");
            }
            catch (AskTimeoutException)
            {
                throw new TimeoutException($"The client did not answer the callback {operation.Name} within {timeout}.");
            }
            catch (Exception e)
            {
                throw new CommunicationException($"The callback {operation.Name} failed: {e.Message}", e);
            }
            return answer switch
            {
                OperationResult result => Reply(Message.CreateMessage(version, operation.ReplyAction, OperationBody.Reply(operation, result.ReturnValue)), messageId),
                _ => throw new ProtocolException($"The callback {operation.Name} was answered with {answer.GetType().Name}."),
            };
        }

        // The fault as the client sent it (code, reason, detail, action), for the proxy's own fault handling.
        private static Message FaultMessage(MessageVersion version, FaultException fault)
        {
            var detail = fault.GetType().IsGenericType ? fault.GetType().GetProperty("Detail")?.GetValue(fault) : null;
            var action = fault.Action ?? "http://www.w3.org/2005/08/addressing/soap/fault";
            return detail is null
                ? Message.CreateMessage(version, fault.Code, fault.Reason.ToString(), action)
                : Message.CreateMessage(version, fault.Code, fault.Reason.ToString(), detail, action);
        }

        private static Message Reply(Message reply, System.Xml.UniqueId? relatesTo)
        {
            if (relatesTo is not null) reply.Headers.RelatesTo = relatesTo;
            return reply;
        }

        protected override void OnAbort() => _aborted.Cancel();
        protected override void OnClose(TimeSpan timeout) => _aborted.Cancel();
        protected override IAsyncResult OnBeginClose(TimeSpan timeout, AsyncCallback callback, object state)
        {
            _aborted.Cancel();
            return Apm.Done(callback, state);
        }
        protected override void OnEndClose(IAsyncResult result) { }
        protected override void OnOpen(TimeSpan timeout) { }
        protected override IAsyncResult OnBeginOpen(TimeSpan timeout, AsyncCallback callback, object state) => Apm.Done(callback, state);
        protected override void OnEndOpen(IAsyncResult result) { }
    }

    private static class Apm
    {
        public static IAsyncResult Done(AsyncCallback? callback, object? state) => Begin(Task.FromResult<Message?>(null), callback, state);

        public static IAsyncResult Begin(Task<Message?> task, AsyncCallback? callback, object? state)
        {
            var done = new TaskCompletionSource<Message?>(state);
            task.ContinueWith(t =>
            {
                if (t.IsFaulted) done.TrySetException(t.Exception!.InnerExceptions);
                else if (t.IsCanceled) done.TrySetCanceled();
                else done.TrySetResult(t.Result);
                callback?.Invoke(done.Task);
            }, TaskScheduler.Default);
            return done.Task;
        }
    }
}
