using System.ServiceModel;
using System.ServiceModel.Channels;

namespace AkkaPortShare.ServiceModel.Tests.TestSupport;

/// <summary>
/// WCF's own client (ChannelFactory, the proxy, its DataContractSerializer formatter and fault handling) over a
/// transport that hands every request <see cref="Message"/> to a function and returns the function's reply.
/// It shows that what the service layer reads and writes is what a WCF client writes and reads, without sockets.
/// The messages go through WCF's binary encoder on the way, as on the wire.
/// </summary>
public static class InMemoryWcfClient
{
    public const string Scheme = "memory";

    /// <summary>Creates a channel of <typeparamref name="TContract"/>; <paramref name="server"/> answers each request (null for one-way).</summary>
    public static (ChannelFactory<TContract> Factory, TContract Channel) Create<TContract>(Func<Message, Message?> server)
    {
        var binding = new CustomBinding(new BinaryMessageEncodingBindingElement(), new Transport(server))
        {
            SendTimeout = TimeSpan.FromSeconds(5),
            OpenTimeout = TimeSpan.FromSeconds(5),
            CloseTimeout = TimeSpan.FromSeconds(5),
        };
        var factory = new ChannelFactory<TContract>(binding, new EndpointAddress($"{Scheme}://localhost/{typeof(TContract).Name}"));
        return (factory, factory.CreateChannel());
    }

    private static MessageEncoder Encoder() => new BinaryMessageEncodingBindingElement().CreateMessageEncoderFactory().Encoder;

    /// <summary>Writes and reads <paramref name="message"/> with WCF's binary encoder, as if it crossed the wire.</summary>
    private static Message OverTheWire(Message message)
    {
        var encoder = Encoder();
        var buffers = BufferManager.CreateBufferManager(0, int.MaxValue);
        using (message)
        {
            var bytes = encoder.WriteMessage(message, int.MaxValue, buffers).ToArray();
            return encoder.ReadMessage(new ArraySegment<byte>(bytes), buffers, encoder.ContentType);
        }
    }

    private sealed class Transport : TransportBindingElement
    {
        private readonly Func<Message, Message?> _server;

        public Transport(Func<Message, Message?> server) => _server = server;

        private Transport(Transport other) : base(other) => _server = other._server;

        public override string Scheme => InMemoryWcfClient.Scheme;

        public override BindingElement Clone() => new Transport(this);

        public override bool CanBuildChannelFactory<TChannel>(BindingContext context) => typeof(TChannel) == typeof(IRequestChannel);

        public override IChannelFactory<TChannel> BuildChannelFactory<TChannel>(BindingContext context) =>
            (IChannelFactory<TChannel>)(object)new Factory(context.Binding, _server);
    }

    private sealed class Factory(IDefaultCommunicationTimeouts timeouts, Func<Message, Message?> server)
        : ChannelFactoryBase<IRequestChannel>(timeouts)
    {
        protected override IRequestChannel OnCreateChannel(EndpointAddress address, Uri via) => new Channel(this, address, via, server);

        protected override void OnOpen(TimeSpan timeout) { }

        protected override IAsyncResult OnBeginOpen(TimeSpan timeout, AsyncCallback callback, object state) => Done(null, callback, state);

        protected override void OnEndOpen(IAsyncResult result) { }
    }

    private sealed class Channel(ChannelManagerBase manager, EndpointAddress address, Uri via, Func<Message, Message?> server)
        : ChannelBase(manager), IRequestChannel
    {
        public EndpointAddress RemoteAddress => address;

        public Uri Via => via;

        // As WCF's transports do: addressing faults become ActionNotSupportedException and the like.
        public override T GetProperty<T>() => typeof(T) == typeof(FaultConverter)
            ? (T)(object)FaultConverter.GetDefaultFaultConverter(MessageVersion.Soap12WSAddressing10)
            : base.GetProperty<T>();

        public Message Request(Message message) => Request(message, DefaultSendTimeout);

        public Message Request(Message message, TimeSpan timeout)
        {
            var reply = server(OverTheWire(message));
            return reply is null ? null! : OverTheWire(reply);
        }

        public IAsyncResult BeginRequest(Message message, AsyncCallback callback, object state) =>
            BeginRequest(message, DefaultSendTimeout, callback, state);

        public IAsyncResult BeginRequest(Message message, TimeSpan timeout, AsyncCallback callback, object state) =>
            Done(Request(message, timeout), callback, state);

        public Message EndRequest(IAsyncResult result) => (Message)((Task<object?>)result).Result!;

        protected override void OnAbort() { }

        protected override void OnClose(TimeSpan timeout) { }

        protected override IAsyncResult OnBeginClose(TimeSpan timeout, AsyncCallback callback, object state) => Done(null, callback, state);

        protected override void OnEndClose(IAsyncResult result) { }

        protected override void OnOpen(TimeSpan timeout) { }

        protected override IAsyncResult OnBeginOpen(TimeSpan timeout, AsyncCallback callback, object state) => Done(null, callback, state);

        protected override void OnEndOpen(IAsyncResult result) { }
    }

    private static IAsyncResult Done(object? result, AsyncCallback? callback, object? state)
    {
        var completion = new TaskCompletionSource<object?>(state);
        completion.SetResult(result);
        callback?.Invoke(completion.Task);
        return completion.Task;
    }
}
