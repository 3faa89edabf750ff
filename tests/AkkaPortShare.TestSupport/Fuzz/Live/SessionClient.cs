using System.Diagnostics;
using System.Text;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.TestSupport.Clients;

namespace AkkaPortShare.TestSupport.Fuzz.Live;

/// <summary>
/// The legitimate client: a whole net.tcp session as a WCF client runs it (preamble, PreambleAck, one message
/// echoed back, End answered with End). Every read is bounded; a session that is not served in time throws.
/// </summary>
public static class SessionClient
{
    public readonly record struct Timing(TimeSpan ToAck, TimeSpan Total);

    public static async Task<Timing> RunAsync(LoopbackClients clients, string via, string message, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var clock = Stopwatch.StartNew();
        using var socket = await clients.ConnectAsync(cts.Token).ConfigureAwait(false);
        var scratch = new byte[1];
        await Wire.SendPreambleAsync(socket, FramingWriter.Preamble(FramingMode.Duplex, via), scratch, cts.Token).ConfigureAwait(false);
        var toAck = clock.Elapsed;

        await Wire.SendEnvelopeAsync(socket, Encoding.UTF8.GetBytes(message), cts.Token).ConfigureAwait(false);
        var echo = Encoding.UTF8.GetString(await Wire.ReceiveEnvelopeAsync(socket, cts.Token).ConfigureAwait(false));
        if (echo != message) throw new InvalidDataException($"sent \"{message}\", got back \"{echo}\"");

        await Wire.CloseSessionAsync(socket, scratch, cts.Token).ConfigureAwait(false);
        return new Timing(toAck, clock.Elapsed);
    }

    /// <summary>Connect → PreambleAck only (the latency the slow-client test reports), then End/End and close.</summary>
    public static async Task<TimeSpan> TimeToAckAsync(LoopbackClients clients, string via, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var clock = Stopwatch.StartNew();
        using var socket = await clients.ConnectAsync(cts.Token).ConfigureAwait(false);
        var scratch = new byte[1];
        await Wire.SendPreambleAsync(socket, FramingWriter.Preamble(FramingMode.Duplex, via), scratch, cts.Token).ConfigureAwait(false);
        var toAck = clock.Elapsed;
        // End, then one byte of the answer: only the time to the ack is measured.
        await Wire.SendAllAsync(socket, Wire.End, cts.Token).ConfigureAwait(false);
        await Wire.ReadExactlyAsync(socket, scratch, cts.Token).ConfigureAwait(false);
        return toAck;
    }

    /// <summary>
    /// <see cref="TimeToAckAsync"/> with blocking calls, for a client on its own thread: nothing it does waits for
    /// the thread pool, so a busy client process (say, one that also runs an attack) does not make it look slow.
    /// </summary>
    public static TimeSpan TimeToAck(LoopbackClients clients, string via, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var socket = clients.Connect(timeout);
        socket.SendTimeout = socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        socket.Send(FramingWriter.Preamble(FramingMode.Duplex, via));
        var first = new byte[1];
        if (socket.Receive(first) == 0) throw new EndOfStreamException("the server closed before PreambleAck");
        var toAck = clock.Elapsed;
        if (first[0] != (byte)FramingRecordType.PreambleAck) throw new InvalidDataException($"expected PreambleAck, got 0x{first[0]:X2}");
        socket.Send(FramingWriter.End);
        if (socket.Receive(first) == 0) throw new EndOfStreamException("the server closed before End");
        return toAck;
    }
}
