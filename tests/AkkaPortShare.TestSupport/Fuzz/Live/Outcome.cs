using System.Buffers;
using System.Net.Sockets;
using System.Text;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.TestSupport.Fuzz.Oracle;

namespace AkkaPortShare.TestSupport.Fuzz.Live;

/// <summary>What a fuzz client actually got back.</summary>
public readonly record struct Outcome(string Kind, string? Fault = null, int Bytes = 0)
{
    public bool Matches(ExpectedAnswer expected) => expected.Kind switch
    {
        AnswerKind.Ack => Kind == "ack",
        AnswerKind.Fault => Kind == "fault" && Fault == expected.Fault,
        _ => Kind is "close" or "reset",
    };

    public override string ToString() => Kind switch
    {
        "fault" => $"fault {(Fault!.StartsWith(FramingFaults.Prefix, StringComparison.Ordinal) ? Fault[FramingFaults.Prefix.Length..] : Fault)}",
        "close" => "clean close",
        "reset" => "close (reset)",
        "ack" => "PreambleAck",
        _ => $"{Kind} ({Bytes} bytes)",
    };

    /// <summary>
    /// Sends the case, half-closes (so a preamble that stops short is seen as ended), and reads until the server
    /// closes. "hang" when nothing ends it within <paramref name="timeout"/>.
    /// </summary>
    public static async Task<Outcome> ExchangeAsync(Socket socket, byte[] bytes, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            if (bytes.Length > 0) await socket.SendAsync(bytes, SocketFlags.None, cts.Token).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The server may close before reading everything (it decided on the first bytes): read what it said.
        }
        catch (OperationCanceledException)
        {
            return new Outcome("hang");
        }

        var received = new ArrayBufferWriter<byte>(256);
        var reset = false;
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(received.GetMemory(4096), SocketFlags.None, cts.Token).ConfigureAwait(false);
                if (n == 0) break;
                received.Advance(n);
            }
        }
        catch (SocketException)
        {
            reset = true;
        }
        catch (OperationCanceledException)
        {
            return new Outcome("hang", null, received.WrittenCount);
        }
        return Classify(received.WrittenSpan, reset);
    }

    public static Outcome Classify(ReadOnlySpan<byte> answer, bool reset)
    {
        if (answer.IsEmpty) return new Outcome(reset ? "reset" : "close");
        if (answer[0] == (byte)FramingRecordType.PreambleAck) return new Outcome("ack", null, answer.Length);
        if (answer[0] == (byte)FramingRecordType.Fault
            && MultiByteInt.TryRead(answer[1..], out var length, out var used) == OperationStatus.Done
            && 1 + used + length == answer.Length)
            return new Outcome("fault", Encoding.UTF8.GetString(answer.Slice(1 + used, length)), answer.Length);
        return new Outcome("unexpected", null, answer.Length);
    }
}
