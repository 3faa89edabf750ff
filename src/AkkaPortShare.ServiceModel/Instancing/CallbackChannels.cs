using System.Collections.Concurrent;
using System.Reflection;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.ServiceModel.Description;
using Akka.Actor;
using AkkaPortShare.ServiceModel.Contracts;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Instancing;

/// <summary>
/// What <c>OperationContext.Current</c> gives a service class's operation on a duplex contract: a typed proxy of
/// the callback contract for the session of the call (<c>GetCallbackChannel&lt;T&gt;()</c>) and the session's id.
/// The proxy is WCF's own (a ChannelFactory over <see cref="CallbackTransport"/>), one per session, aborted when the
/// session ends. Used from the instance actors and the thread pool at once, hence the concurrent map.
/// </summary>
internal sealed class CallbackChannels : IDisposable
{
    // WCF's GetCallbackChannel answers only in a service's context, one with a request (IsUserContext false); the public
    // constructor makes a user context. The request is set by reflection: a package update that renames the field fails
    // CallbackChannelsSpec and every duplex ServeService at start, not silently.
    private static readonly FieldInfo? RequestField =
        typeof(OperationContext).GetField("_request", BindingFlags.Instance | BindingFlags.NonPublic);

    private readonly ChannelFactory _factory;
    private readonly MethodInfo _createChannel;
    private readonly CallbackTransport.Targets _targets = new();
    private readonly ConcurrentDictionary<string, (IActorRef Session, object Proxy)> _proxies = new(StringComparer.Ordinal);
    private long _next;

    private CallbackChannels(ContractDescription callback, ContractMap contract)
    {
        if (RequestField?.FieldType != typeof(Message))
            throw new InvalidOperationException("System.ServiceModel's OperationContext has no Message field _request: " +
                "OperationContext.GetCallbackChannel cannot be served with this System.ServiceModel.Primitives version.");
        var actions = callback.Operations.ToDictionary(o => o.Messages[0].Action, o => o.Name, StringComparer.Ordinal);
        var binding = new CustomBinding(new BinaryMessageEncodingBindingElement(), new CallbackTransport(_targets, contract, actions));
        var endpoint = new ServiceEndpoint(callback, binding, new EndpointAddress($"{CallbackTransport.UriScheme}://callbacks/"));
        var factoryType = typeof(ChannelFactory<>).MakeGenericType(callback.ContractType);
        _factory = (ChannelFactory)Activator.CreateInstance(factoryType, endpoint)!;
        _createChannel = factoryType.GetMethod(nameof(ChannelFactory<object>.CreateChannel), [typeof(EndpointAddress)])!;
    }

    /// <summary>The callback channels of <paramref name="contractType"/>, or null when it is not a duplex contract.</summary>
    public static CallbackChannels? For(Type contractType) =>
        CallbackContract.For(contractType) is { } callback ? new CallbackChannels(callback, ContractMap.For(contractType)) : null;

    /// <summary>The OperationContext for a call of <paramref name="invoked"/> (action: the call's request action).</summary>
    public OperationContext? ContextFor(OperationInvoked invoked, string action)
    {
        if (invoked.Callback.IsNobody()) return null;
        var proxy = _proxies.AddOrUpdate(invoked.SessionId,
            _ => (invoked.Callback, NewProxy(invoked)),
            // A session whose callback target changed (it cannot today) gets a proxy of the new one.
            (_, known) => known.Session.Equals(invoked.Callback) ? known : (invoked.Callback, NewProxy(invoked))).Proxy;
        var context = new OperationContext((IContextChannel)proxy);
        RequestField!.SetValue(context, Message.CreateMessage(MessageVersion.Soap12WSAddressing10, action));
        return context;
    }

    /// <summary>The session ended: its proxy is aborted, so a call on it fails at once.</summary>
    public void End(string sessionId)
    {
        if (_proxies.TryRemove(sessionId, out var entry)) ((ICommunicationObject)entry.Proxy).Abort();
    }

    public void Dispose()
    {
        foreach (var sessionId in _proxies.Keys) End(sessionId);
        _factory.Abort();
    }

    private object NewProxy(OperationInvoked invoked)
    {
        var address = new Uri($"{CallbackTransport.UriScheme}://callbacks/{Interlocked.Increment(ref _next)}");
        _targets.Add(address, invoked.Callback, invoked.SessionId);
        var proxy = _createChannel.Invoke(_factory, [new EndpointAddress(address)])!;
        // Opened now, as a WCF service's callback channel is: a proxy opened by its first call holds every other call
        // until that first one completes (ServiceChannel's auto-open queue), which would serialize a Reentrant or
        // Multiple service's callbacks behind a request/reply one.
        ((ICommunicationObject)proxy).Open();
        return proxy;
    }
}
