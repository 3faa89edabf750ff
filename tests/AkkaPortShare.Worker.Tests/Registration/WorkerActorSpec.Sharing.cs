using AkkaPortShare.Worker.Sessions;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.Worker.Tests.Registration;

/// <summary>share-addresses: the worker asks to share, and tells the router its connection count when it changes.</summary>
public sealed partial class WorkerActorSpec
{
    [Fact]
    public async Task WorkerActor_must_ask_to_share_and_report_its_connection_count_only_when_it_changed()
    {
        var worker = StartWorker([EchoAddress], settings: Settings("""
            akka-port-share.worker { share-addresses = on, load-report-interval = 100ms }
            """));
        var register = await ExpectRegisterAsync(EchoAddress);
        Assert.True(register.Shared);
        // Nothing is reported before the router has one of its addresses (only Register is retried).
        Assert.All(_registry.ReceiveWhile<object>(TimeSpan.FromMilliseconds(300), m => m), m => Assert.IsType<Register>(m));

        worker.Tell(new Registered(EchoAddress, "relay"), _registryForwarder);

        Assert.Equal(0, (await NextLoadAsync()).OpenConnections);
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(400)); // unchanged: nothing more
        var budget = ConnectionBudget.For(Sys);
        Assert.True(budget.TryOpen(10));
        Assert.True(budget.TryOpen(10));
        Assert.Equal(2, (await NextLoadAsync()).OpenConnections);
        budget.Closed();
        budget.Closed();
        Assert.Equal(0, (await NextLoadAsync()).OpenConnections);
    }

    [Fact]
    public async Task WorkerActor_must_ask_the_router_where_a_sessions_worker_is_and_answer_only_from_its_answer_or_its_silence()
    {
        var worker = StartWorker([EchoAddress], settings: Settings("""
            akka-port-share.worker { share-addresses = on, session-forward-timeout = 300ms }
            """));
        worker.Tell(new Registered(EchoAddress, "relay"), _registryForwarder);
        var connection = CreateTestProbe();
        var key = new Protocol.Handover.SessionRouteKey(0x00AB_CDEF_0123_4567UL);

        worker.Tell(new LocateSessionHolder(EchoAddress, key), connection.Ref);
        var find = (FindSessionHolder)await _registry.FishForMessageAsync(m => m is FindSessionHolder, TimeSpan.FromSeconds(3));
        Assert.Equal((EchoAddress, "abcdef01234567"), (find.BaseAddress, find.SessionKey));
        worker.Tell(new SessionHolder(find.RequestId + 1, "10.9.9.9", 1), _registryForwarder); // not the question asked
        worker.Tell(new SessionHolder(find.RequestId, "10.0.0.8", 40123), _registryForwarder);
        Assert.Equal(new SessionHolderLocated("10.0.0.8", 40123), await connection.ExpectMsgAsync<SessionHolderLocated>());
        await connection.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500)); // answered once: its timer was cancelled

        worker.Tell(new LocateSessionHolder(EchoAddress, key), connection.Ref);
        Assert.Null((await connection.ExpectMsgAsync<SessionHolderLocated>(TimeSpan.FromSeconds(3))).DataHost); // the router said nothing
    }

    // Past a Register retry that was on its way when Registered arrived.
    private async Task<ConnectionLoad> NextLoadAsync() =>
        (ConnectionLoad)await _registry.FishForMessageAsync(m => m is ConnectionLoad, TimeSpan.FromSeconds(3));

    [Fact]
    public async Task WorkerActor_must_neither_ask_to_share_nor_report_its_load_by_default()
    {
        var worker = StartWorker([EchoAddress]);
        Assert.False((await ExpectRegisterAsync(EchoAddress)).Shared);

        worker.Tell(new Registered(EchoAddress, "relay"), _registryForwarder);

        Assert.True(ConnectionBudget.For(Sys).TryOpen(10));
        Assert.All(_registry.ReceiveWhile<object>(TimeSpan.FromMilliseconds(600), m => m), m => Assert.IsType<Register>(m));
        ConnectionBudget.For(Sys).Closed();
    }
}
