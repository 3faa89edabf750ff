using Akka.Actor;
using AkkaPortShare.Worker.Registration;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;
using static AkkaPortShare.Worker.WorkerProtocol;

namespace AkkaPortShare.Worker.Tests.Registration;

/// <summary>
/// Shutting down (CoordinatedShutdown's service-unbind asks Leave): the worker gives every address back first, so
/// new connections go to a replacement, and registers nothing again; a refusal now does not end the process.
/// </summary>
public sealed partial class WorkerActorSpec
{
    [Fact]
    public async Task WorkerActor_must_unregister_every_address_on_leave_and_answer_once_the_router_has_them_all()
    {
        var worker = StartWorker([EchoAddress, OtherAddress]);
        foreach (var _ in new[] { 1, 2 })
        {
            var register = await ExpectRegisterAsync();
            worker.Tell(new Registered(register.BaseAddress, "fd"), _registryForwarder);
        }
        await AwaitAssertAsync(async () => Assert.All((await StatusAsync(worker)).Addresses,
            a => Assert.Equal(RegistrationState.Registered, a.State)), TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));

        var left = worker.Ask<Akka.Done>(WorkerActor.Leave.Instance, TimeSpan.FromSeconds(5));
        var unregisters = new[]
        {
            await _registry.ExpectMsgAsync<Unregister>(TimeSpan.FromSeconds(3)),
            await _registry.ExpectMsgAsync<Unregister>(TimeSpan.FromSeconds(3)),
        };
        Assert.Equal([EchoAddress, OtherAddress], unregisters.Select(u => u.BaseAddress).Order());

        worker.Tell(new Unregistered(EchoAddress), _registryForwarder);
        await AwaitAssertAsync(async () => Assert.Equal(RegistrationState.Unregistered,
            (await StatusAsync(worker)).Addresses.Single(a => a.BaseAddress == EchoAddress).State),
            TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));
        Assert.False(left.IsCompleted); // one address is still the router's

        worker.Tell(new Unregistered(OtherAddress), _registryForwarder);
        await left;
        Assert.All((await StatusAsync(worker)).Addresses, a => Assert.Equal(RegistrationState.Unregistered, a.State));

        // Leaving: a router lost or a late refusal registers nothing again and ends nothing.
        var address = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
        Sys.EventStream.Publish(new Akka.Remote.DisassociatedEvent(address, address, inbound: false));
        worker.Tell(new RegistrationRefused(EchoAddress, RefusalReason.NotOwner, "not yours"), _registryForwarder);
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(600));
        await _exits.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task WorkerActor_must_answer_leave_at_once_when_nothing_is_registered_and_stop_registering()
    {
        var worker = StartWorker([EchoAddress]);
        await ExpectRegisterAsync(EchoAddress); // unanswered: still pending

        await worker.Ask<Akka.Done>(WorkerActor.Leave.Instance, TimeSpan.FromSeconds(3));

        Assert.Equal(RegistrationState.Unregistered, (await StatusOfAsync(worker, EchoAddress)).State);
        _registry.ReceiveWhile<object>(TimeSpan.FromMilliseconds(100), m => m); // a retry sent before Leave arrived
        await _registry.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(800)); // retries (100-400 ms) have stopped
    }
}
