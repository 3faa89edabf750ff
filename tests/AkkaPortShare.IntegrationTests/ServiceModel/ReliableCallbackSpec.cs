using System.ServiceModel;
using System.ServiceModel.Channels;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

/// <summary>
/// A router and two workers serving IReviewService (a duplex contract with request/reply callbacks) twice: the sample's
/// ReviewService class (review/) and its ReviewActor (actor/). O has the default reliable-session settings (ordered),
/// U unordered delivery, as WCF's ReliableSession.Ordered = false service.
/// </summary>
public sealed class ReliableCallbackFixture : IAsyncLifetime
{
    public PortShareHost Host { get; } = new();
    public Uri Address(bool ordered, bool actor) => new(Host.Via($"{(ordered ? "o" : "u")}/{(actor ? "actor" : "review")}/"));

    public async Task InitializeAsync()
    {
        await Host.StartRouterAsync();
        var unordered = Host.WriteConfig("akka-port-share.reliable-session.ordered = off");
        await Task.WhenAll(
            Host.StartWorkerAsync("worker-O",
                ["--review-address", Host.Address("o/review/"), "--review-actor-address", Host.Address("o/actor/")], "o/review/", "o/actor/"),
            Host.StartWorkerAsync("worker-U",
                ["--review-address", Host.Address("u/review/"), "--review-actor-address", Host.Address("u/actor/"), "--config", unordered],
                "u/review/", "u/actor/"));
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Request/reply callbacks on a reliable duplex session, with the real WCF client (DuplexChannelFactory) through the
/// router: the service's operation waits on the client's answer, which comes as a later message of the client's
/// sequence while that operation is still in progress. WS-RM February 2005 (NetTcpBinding with reliable sessions) and
/// 1.1 (a CustomBinding), ordered and unordered; the service class (GetCallbackChannel) and the actor (InvokeCallback).
/// </summary>
/// <remarks>
/// Known intermittent failure, on the client's side (System.ServiceModel 10.1.0), about 1 run in 3 on a loaded 2-core
/// machine: when the service's one-way Progress and request/reply Approve arrive in one read, the client sometimes never
/// finishes sending its answer to Approve (its reliable channel's retry timer sends it ~0.4 s later, the service answers
/// the call at once and the client acknowledges that reply), but the dispatch of the callback never completes, so the
/// client's channel takes no further message and the waiting call times out (30 s). Traced with the worker's debug log
/// and the client's WCF EventSource (no DispatchMessageStop or ChannelReceiveStart after that reply); the service had
/// answered everything. So a case whose call times out runs its whole session once more on a new factory: a service
/// that does not answer fails both.
/// </remarks>
public sealed class ReliableCallbackSpec(ReliableCallbackFixture fixture) : IClassFixture<ReliableCallbackFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static Binding Binding(bool wsrm11, bool ordered)
    {
        if (!wsrm11)
        {
            var netTcp = new NetTcpBinding(SecurityMode.None, reliableSessionEnabled: true)
            {
                OpenTimeout = Timeout, SendTimeout = Timeout, CloseTimeout = Timeout, ReceiveTimeout = TimeSpan.FromSeconds(60),
            };
            netTcp.ReliableSession.Ordered = ordered;
            return netTcp;
        }
        // NetTcpBinding always speaks February 2005: WS-RM 1.1 takes a custom binding.
        return new CustomBinding(
            new ReliableSessionBindingElement { Ordered = ordered, ReliableMessagingVersion = ReliableMessagingVersion.WSReliableMessaging11 },
            new BinaryMessageEncodingBindingElement(), new TcpTransportBindingElement())
        {
            OpenTimeout = Timeout, SendTimeout = Timeout, CloseTimeout = Timeout, ReceiveTimeout = TimeSpan.FromSeconds(60),
        };
    }

    [Theory]
    [InlineData(false, true, false)]
    [InlineData(false, false, false)]
    [InlineData(true, true, false)]
    [InlineData(true, false, false)]
    [InlineData(false, true, true)]
    [InlineData(false, false, true)]
    [InlineData(true, true, true)]
    [InlineData(true, false, true)]
    public void A_service_waits_on_request_reply_callbacks_over_a_reliable_session(bool wsrm11, bool ordered, bool actor) =>
        fixture.Host.WithLogsOnFailure(() =>
        {
            // No SynchronizationContext for the callbacks: WCF's client leaves one open on it for each callback that
            // faults, which xUnit's would wait for forever (ServiceCallbackSpec shows it).
            var xunitContext = SynchronizationContext.Current;
            SynchronizationContext.SetSynchronizationContext(null);
            try
            {
                try
                {
                    Review(wsrm11, ordered, actor);
                }
                catch (TimeoutException)
                {
                    // The client-side hang described on this class (WCF's client, not the service: the service had
                    // answered everything each time it was traced) happens in about 1 class run in 4 under load
                    // (1 case in 30). One more whole session, on a new factory, tells it apart from a service that does not
                    // answer, which would time out again.
                    Review(wsrm11, ordered, actor);
                }
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(xunitContext);
            }
        });

    /// <param name="actor">The actor service (InvokeCallback asked) rather than the service class (GetCallbackChannel).</param>
    private void Review(bool wsrm11, bool ordered, bool actor)
    {
        var reviewer = new Reviewer();
        var factory = new DuplexChannelFactory<IReviewService>(new InstanceContext(reviewer), Binding(wsrm11, ordered),
            new EndpointAddress(fixture.Address(ordered, actor)));
        try
        {
            Calls(factory.CreateChannel(), reviewer, ordered);
            factory.Close();
        }
        catch
        {
            // The failure (a call's TimeoutException, an assertion) is what this test reports. Closing the factory now
            // would throw a ProtocolException of its own ("The session was closed before message transfer was
            // complete": WCF will not close a reliable session with a received message its application has not
            // taken) and hide it.
            factory.Abort();
            throw;
        }
    }

    private static void Calls(IReviewService review, Reviewer reviewer, bool ordered)
    {
        // Each Submit sends a one-way callback, then waits on a request/reply one, within the operation.
        Assert.Equal("approved", review.Submit("report"));
        Assert.Equal("rejected", review.Submit("bad report"));
        Assert.Equal("approved", review.Submit("memo"));
        // A typed fault from the client's callback, as a message of its sequence like any answer.
        Assert.Equal("refused: classified (Classified)", review.Submit("secret"));
        Assert.Equal("looks fine: plan", review.SubmitAsync("plan").GetAwaiter().GetResult()); // a Task-based callback
        Assert.Equal(2, review.Approved()); // one instance for the session, as over a plain one

        // The one-way callbacks all arrived once (in the order sent when ordered; unordered, in any).
        (string, int)[] progressed = [("report", 50), ("bad report", 50), ("memo", 50), ("secret", 50)];
        if (ordered) Assert.Equal(progressed, reviewer.Progressed.ToArray());
        else Assert.Equal(progressed.Order(), reviewer.Progressed.Order());
        ((IClientChannel)review).Close(); // the reliable session ends in both directions
    }
}
