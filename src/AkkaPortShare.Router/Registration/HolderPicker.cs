using AkkaPortShare.Router.Configuration;

namespace AkkaPortShare.Router.Registration;

/// <summary>
/// The one choice among a shared address's holders, made the same way by every routing path (the accept thread's
/// direct hand-over and connection actors through <see cref="RouteSnapshot"/>, the registry's Resolve). No
/// allocation: a turn counter and one pass over the holders.
/// </summary>
internal sealed class HolderPicker(SharedAddressBalancing balancing)
{
    private int _turn;

    /// <summary>The index of the holder the next connection goes to, and counts it as routed there.</summary>
    public int Pick(ReadOnlySpan<WorkerLoad> loads)
    {
        if (loads.Length == 1) return 0; // the common case (an address not shared) pays nothing
        var start = (int)((uint)Interlocked.Increment(ref _turn) % (uint)loads.Length);
        var best = start;
        if (balancing == SharedAddressBalancing.LeastConnections)
        {
            var least = loads[start].Estimate;
            for (var i = 1; i < loads.Length; i++)
            {
                var index = (start + i) % loads.Length;
                var estimate = loads[index].Estimate;
                if (estimate < least)
                {
                    least = estimate;
                    best = index;
                }
            }
        }
        loads[best].Routed();
        return best;
    }
}
