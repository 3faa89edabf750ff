namespace AkkaPortShare.Router.Listening;

/// <summary>
/// The accept thread's permits (max-pending-accepts): one for each socket accepted and not yet taken, and one for
/// each shed connection until its socket has closed. A shed takes a free permit, or else owes one: the next permit
/// given back pays the debt instead of waking the accept thread. So the thread accepts no faster than shed
/// connections let go of their descriptors, however slowly their actors run (SlowClientSpec: under a loaded CI
/// machine, shed sockets still closing once took the router's descriptors past its bound).
/// </summary>
internal sealed class AcceptPermits(int count)
{
    private readonly SemaphoreSlim _free = new(count);
    private int _owed;

    /// <summary>On the accept thread: waits for a permit.</summary>
    public void Wait(CancellationToken stopping) => _free.Wait(stopping);

    /// <summary>A permit comes back (a socket taken, or a shed one closed): it pays a debt first.</summary>
    public void Release()
    {
        while (true)
        {
            var owed = Volatile.Read(ref _owed);
            if (owed == 0)
            {
                _free.Release();
                return;
            }
            if (Interlocked.CompareExchange(ref _owed, owed - 1, owed) == owed) return;
        }
    }

    /// <summary>A connection is shed: it holds a permit until it has closed (then <see cref="Release"/>).</summary>
    public void TakeForShed()
    {
        if (!_free.Wait(0)) Interlocked.Increment(ref _owed);
    }

    /// <summary>Permits free now (a test's view).</summary>
    internal int Free => _free.CurrentCount - Volatile.Read(ref _owed);
}
