namespace AkkaPortShare.Contracts.Hosting;

/// <summary>
/// The wait of a graceful shutdown (CoordinatedShutdown's service-requests-done phase): until nothing remains (the
/// router's held connections, a worker's sessions) or the drain timeout passes. Polled: the counts are kept by
/// lock-free counters that nobody signals on.
/// </summary>
internal static class ShutdownDrain
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <returns>What still remains when the wait ended (0: everything ended in time).</returns>
    public static async Task<int> WaitAsync(Func<int> remaining, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (remaining() > 0 && DateTime.UtcNow < deadline) await Task.Delay(PollInterval);
        return remaining();
    }
}
