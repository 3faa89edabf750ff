using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using AkkaPortShare.Contracts.Registration;
using Akka.Configuration;
using AkkaPortShare.Worker.Configuration;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>
/// An actor system in the test process that talks to the router's registry as a worker would (the worker's
/// reference config, so its messages use the workers' serializers), but says what the test wants: the attacker
/// of the admission specs. Every answer it gets is kept, with the time it arrived.
/// </summary>
internal sealed class ForeignRegistrant : IDisposable
{
    private readonly ActorSystem _system;
    private readonly IActorRef _inbox;
    private readonly ActorSelection _registry;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public ConcurrentQueue<(TimeSpan At, object Message)> Answers { get; } = new();

    /// <summary>When set, every RegistrationRefused is answered with the same Register again at once.</summary>
    public bool Insist { get; set; }

    public ForeignRegistrant(string routerAddress)
    {
        _system = ActorSystem.Create("attacker", ConfigurationFactory
            .ParseString("akka.loglevel = WARNING")
            .WithFallback(WorkerSettings.DefaultConfig())
            .WithFallback(RegistryProtocolConfig.Default())); // the registry protocol's wire form, as a worker has it
        _registry = _system.ActorSelection($"{routerAddress}/user/port-share-registry");
        _inbox = _system.ActorOf(Props.Create(() => new Inbox(this)), "registrant");
    }

    public TimeSpan Now => _clock.Elapsed;

    public void Register(Register register) => _registry.Tell(register, _inbox);

    public async Task<T> WaitForAsync<T>(Func<T, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Answers.Select(a => a.Message).OfType<T>().FirstOrDefault(match) is { } found) return found;
            await Task.Delay(20);
        }
        throw new TimeoutException($"no {typeof(T).Name} within {timeout}; got: {string.Join("; ", Answers.Select(a => a.Message))}");
    }

    private sealed class Inbox : ReceiveActor
    {
        public Inbox(ForeignRegistrant owner) => ReceiveAny(message =>
        {
            owner.Answers.Enqueue((owner.Now, message));
            if (owner.Insist && message is RegistrationRefused refused && owner._pending.TryGetValue(refused.BaseAddress, out var again))
                owner._registry.Tell(again, Self);
        });
    }

    private readonly ConcurrentDictionary<string, Register> _pending = new();

    /// <summary>Registers and, with <see cref="Insist"/>, registers again after every refusal.</summary>
    public void RegisterInsistently(Register register)
    {
        _pending[register.BaseAddress] = register;
        Register(register);
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
