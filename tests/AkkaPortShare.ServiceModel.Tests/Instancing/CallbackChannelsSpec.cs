using System.ServiceModel;
using Akka.Actor;
using AkkaPortShare.ServiceModel.Instancing;
using AkkaPortShare.ServiceModel.Tests.Dispatch;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Instancing;

/// <summary>
/// Pins what the typed callback proxies rest on in System.ServiceModel: an OperationContext made for a proxy with its
/// request set by reflection answers GetCallbackChannel with that proxy. A package update that breaks it fails here.
/// </summary>
public sealed class CallbackChannelsSpec : Akka.TestKit.Xunit2.TestKit
{
    public CallbackChannelsSpec() : base("akka.actor.provider = local", "CallbackChannelsSpec") { }

    [Fact]
    public void GetCallbackChannel_returns_the_sessions_typed_proxy()
    {
        using var channels = CallbackChannels.For(typeof(IAudited))!;

        var context = channels.ContextFor(new OperationInvoked("Note", ["x"], TestActor, "session-7"), "urn:action")!;

        Assert.False(context.IsUserContext);
        var proxy = context.GetCallbackChannel<IAuditCallback>();
        Assert.NotNull(proxy);
        // One proxy per session.
        Assert.Same(proxy, channels.ContextFor(new OperationInvoked("Note", ["y"], TestActor, "session-7"), "urn:action")!
            .GetCallbackChannel<IAuditCallback>());
    }

    [Fact]
    public void A_contract_without_a_callback_contract_has_no_callback_channels() =>
        Assert.Null(CallbackChannels.For(typeof(ICounter)));

    [Fact]
    public async Task A_proxy_of_an_ended_session_fails_its_calls()
    {
        using var channels = CallbackChannels.For(typeof(IAudited))!;
        var proxy = channels.ContextFor(new OperationInvoked("Note", [], TestActor, "s"), "urn:action")!.GetCallbackChannel<IAuditCallback>();

        channels.End("s");

        await Assert.ThrowsAsync<CommunicationObjectAbortedException>(() => Task.Run(() => proxy.Approve("late")));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }
}
