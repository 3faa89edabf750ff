using static AkkaPortShare.ServiceModel.Wsrm.WsrmProtocol;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <summary>
/// Sessions that closed normally a short while ago, under both their identifiers, so the endpoint can repeat their
/// last word (the final acknowledgement, and February 2005's TerminateSequence of the service's sequence) to a client
/// that did not hear it, instead of UnknownSequence. The service's TerminateSequence is not acknowledged by WS-RM, so
/// when the connection carrying it is cut the client's Close() waits for it, reconnects, asks again (an
/// acknowledgement, AckRequested) and, answered UnknownSequence, fails although every message arrived.
/// </summary>
/// <remarks>
/// Bounded in count (the oldest is forgotten first) and in time: a client's Close() waits its CloseTimeout (one minute
/// by default), so a session older than <see cref="KeepFor"/> is no longer asked about. Pure: time is passed in.
/// </remarks>
internal sealed class FinishedSessions
{
    public const int Capacity = 1024;
    public static readonly TimeSpan KeepFor = TimeSpan.FromMinutes(2);

    private readonly Dictionary<string, SessionFinished> _byId = new(StringComparer.Ordinal);
    private readonly Queue<(SessionFinished Session, DateTimeOffset At)> _order = new();

    public void Add(SessionFinished session, DateTimeOffset now)
    {
        Prune(now);
        if (_order.Count == Capacity) Forget(_order.Dequeue().Session);
        _order.Enqueue((session, now));
        _byId[session.InputId] = session;
        if (session.OutputId is { } output) _byId[output] = session;
    }

    /// <summary>The finished session <paramref name="sequenceId"/> (either of its identifiers) names, if it is still kept.</summary>
    public bool TryGet(string sequenceId, DateTimeOffset now, out SessionFinished session)
    {
        Prune(now);
        return _byId.TryGetValue(sequenceId, out session!);
    }

    private void Prune(DateTimeOffset now)
    {
        while (_order.TryPeek(out var oldest) && now - oldest.At > KeepFor) Forget(_order.Dequeue().Session);
    }

    private void Forget(SessionFinished session)
    {
        // Only this entry's: a later session cannot reuse an identifier (they are unique), but be exact anyway.
        if (_byId.TryGetValue(session.InputId, out var held) && ReferenceEquals(held, session)) _byId.Remove(session.InputId);
        if (session.OutputId is { } output && _byId.TryGetValue(output, out held) && ReferenceEquals(held, session)) _byId.Remove(output);
    }
}
