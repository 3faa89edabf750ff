using Akka.Actor;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// What all connections of a worker hold together: how many are open (max-connections) and their unsent bytes
/// (max-unsent-bytes-total). Each <see cref="SessionConnectionActor"/> counts itself in and out; the counts are
/// shared across actors, hence atomic.
/// </summary>
internal sealed class ConnectionBudget : IExtension
{
    private int _connections;
    private long _unsentBytes;

    public static ConnectionBudget For(ActorSystem system) => system.WithExtension<ConnectionBudget, ConnectionBudgetProvider>();

    public long UnsentBytes => Interlocked.Read(ref _unsentBytes);

    /// <summary>The connections counted in now (the worker's connections.active counter).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Counts a connection in; false (and not counted) when <paramref name="max"/> are open already.</summary>
    public bool TryOpen(int max)
    {
        if (Interlocked.Increment(ref _connections) <= max) return true;
        Interlocked.Decrement(ref _connections);
        return false;
    }

    public void Closed() => Interlocked.Decrement(ref _connections);

    public void AddUnsent(long delta) => Interlocked.Add(ref _unsentBytes, delta);
}

internal sealed class ConnectionBudgetProvider : ExtensionIdProvider<ConnectionBudget>
{
    public override ConnectionBudget CreateExtension(ExtendedActorSystem system) => new();
}
