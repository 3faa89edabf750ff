using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Protocol.Tests.Framing;

internal static class SessionFeeder
{
    /// <summary>
    /// Runs <paramref name="data"/> through <paramref name="decoder"/> in the reads given by <paramref name="ends"/>
    /// and returns a normalised event log: consecutive EnvelopeData events are merged (their split depends on the
    /// reads), so the log is the same for every split. Stops at PreambleStart (logging its stream offset) or Invalid.
    /// </summary>
    public static List<string> Run(SessionDecoder decoder, byte[] data, IReadOnlyList<int> ends)
    {
        var log = new List<string>();
        var payload = new List<byte>();
        int offset = 0;

        void FlushPayload()
        {
            if (payload.Count > 0)
            {
                log.Add("Data:" + Bytes.ToHex(payload.ToArray()));
                payload.Clear();
            }
        }

        foreach (int end in ends)
        {
            while (true)
            {
                var input = data.AsSpan(offset, end - offset);
                var ev = decoder.Decode(input, out int consumed);
                Assert.InRange(consumed, 0, input.Length);
                offset += consumed;

                switch (ev.Kind)
                {
                    case SessionEventKind.NeedMoreData:
                        Assert.Equal(input.Length, consumed);
                        break;
                    case SessionEventKind.EnvelopeData:
                        Assert.True(ev.DataLength > 0, "empty EnvelopeData");
                        Assert.Equal(ev.DataOffset + ev.DataLength, consumed);
                        payload.AddRange(input.Slice(ev.DataOffset, ev.DataLength).ToArray());
                        continue;
                    case SessionEventKind.EnvelopeStart:
                        log.Add($"Start:{ev.Size}");
                        continue;
                    case SessionEventKind.EnvelopeEnd:
                        FlushPayload();
                        log.Add($"EnvEnd:{ev.Size}");
                        continue;
                    case SessionEventKind.End:
                        log.Add("End");
                        continue;
                    case SessionEventKind.Fault:
                        log.Add("Fault:" + ev.FaultUri);
                        continue;
                    case SessionEventKind.PreambleStart:
                        Assert.Equal(0, consumed);
                        FlushPayload();
                        log.Add($"PreambleStart@{offset}");
                        return log;
                    case SessionEventKind.Invalid:
                        Assert.Equal(0, consumed);
                        FlushPayload();
                        log.Add("Invalid");
                        return log;
                }

                break; // NeedMoreData: next read
            }
        }

        FlushPayload();
        log.Add($"Waiting@{offset}");
        return log;
    }
}
