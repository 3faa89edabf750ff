using Akka.Actor;
using AkkaPortShare.Worker.Hosting;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Worker.WorkerProtocol;

namespace AkkaPortShare.Worker.Tests.Registration;

/// <summary>
/// A worker that cannot do its job ends its process (here: reports to the exits probe): a refused registration
/// (exit-on-refusal), and addresses still unregistered start-timeout after the start. A router lost later does not.
/// </summary>
public sealed partial class WorkerActorSpec
{
    [Fact]
    public async Task WorkerActor_must_end_the_process_with_76_when_the_router_refuses_an_address()
    {
        var worker = StartWorker([EchoAddress, OtherAddress]);
        await ExpectRegisterAsync();
        await ExpectRegisterAsync();

        worker.Tell(new RegistrationRefused(EchoAddress, RefusalReason.AddressAlreadyInUse, "Address already in use: by pid 1"),
            _registryForwarder);

        var (code, cause) = await _exits.ExpectMsgAsync<(int, string)>(TimeSpan.FromSeconds(3));
        Assert.Equal(WorkerExit.Refused, code);
        Assert.Contains(EchoAddress, cause);
        Assert.Contains("AddressAlreadyInUse", cause);
    }

    [Fact]
    public async Task WorkerActor_must_end_the_process_with_69_when_an_address_is_not_registered_within_start_timeout()
    {
        var worker = StartWorker([EchoAddress, OtherAddress], settings: Settings("akka-port-share.worker.start-timeout = 700ms"));
        var register = await ExpectRegisterAsync();
        worker.Tell(new Registered(register.BaseAddress, "fd"), _registryForwarder); // one of two: not enough

        await _exits.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(400)); // never before the timeout
        var (code, cause) = await _exits.ExpectMsgAsync<(int, string)>(TimeSpan.FromSeconds(3));
        Assert.Equal(WorkerExit.RouterUnavailable, code);
        Assert.Contains("start-timeout", cause);
    }

    [Fact]
    public async Task WorkerActor_must_wait_for_a_router_lost_after_the_start_however_long_it_takes()
    {
        var worker = StartWorker([EchoAddress], settings: Settings("akka-port-share.worker.start-timeout = 500ms"));
        await ExpectRegisterAsync(EchoAddress);
        worker.Tell(new Registered(EchoAddress, "fd"), _registryForwarder);
        await AwaitAssertAsync(async () =>
            Assert.Equal(RegistrationState.Registered, (await StatusOfAsync(worker, EchoAddress)).State),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));

        var address = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
        Sys.EventStream.Publish(new Akka.Remote.DisassociatedEvent(address, address, inbound: false)); // the router is this system
        await AwaitAssertAsync(async () =>
            Assert.Equal(RegistrationState.Pending, (await StatusOfAsync(worker, EchoAddress)).State),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));

        // Unanswered re-registrations for twice start-timeout: still running, still registering.
        await _exits.ExpectNoMsgAsync(TimeSpan.FromSeconds(1));
        await ExpectRegisterAsync(EchoAddress);
    }

    [Fact]
    public async Task WorkerActor_must_settle_a_refused_address_without_ending_when_exit_on_refusal_is_off()
    {
        var worker = StartWorker([EchoAddress, OtherAddress], settings: Settings("""
            akka-port-share.worker { start-timeout = 500ms, exit-on-refusal = off }
            """));
        for (var i = 0; i < 2; i++)
        {
            var register = await ExpectRegisterAsync();
            worker.Tell(register.BaseAddress == EchoAddress
                ? new RegistrationRefused(EchoAddress, RefusalReason.NotAuthorized, "not in allowed-worker-users")
                : new Registered(register.BaseAddress, "fd"), _registryForwarder);
        }

        // Every address answered for good: the start is over, nothing ends the worker.
        await _exits.ExpectNoMsgAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(RegistrationState.Refused, (await StatusOfAsync(worker, EchoAddress)).State);
        Assert.Equal(RegistrationState.Registered, (await StatusOfAsync(worker, OtherAddress)).State);
    }
}
