using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.TestSupport.Clients;

/// <summary>A client's framing bytes, built once per scenario and only read afterwards (shared by all connections).</summary>
public sealed class ClientRecords
{
    /// <summary>Duplex preamble, binary session encoding, PreambleEnd: what a NetTcpBinding client sends.</summary>
    public byte[] Preamble { get; }

    /// <summary>One sized envelope (header and payload in one array, so it goes out in one send).</summary>
    public byte[] Envelope { get; }

    public int HeaderSize { get; }
    public int PayloadSize { get; }

    public ClientRecords(string via, int payloadSize)
    {
        Preamble = FramingWriter.Preamble(FramingMode.Duplex, via);
        PayloadSize = payloadSize;
        HeaderSize = FramingWriter.SizedEnvelopeHeaderSize(payloadSize);
        Envelope = new byte[HeaderSize + payloadSize];
        FramingWriter.WriteSizedEnvelopeHeader(Envelope, payloadSize);
        // A payload pattern the echo service sends back unchanged (it answers only "whoami" differently).
        for (var i = 0; i < payloadSize; i++) Envelope[HeaderSize + i] = (byte)('a' + i % 26);
    }
}
