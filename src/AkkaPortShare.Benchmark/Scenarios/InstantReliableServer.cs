using System.Net;
using System.Net.Sockets;
using System.ServiceModel.Channels;
using System.Xml;

namespace AkkaPortShare.Benchmark.Scenarios;

/// <summary>
/// The fastest reliable-session server the WCF client can have, to show what the client alone costs: it runs in the
/// benchmark process, one thread per connection, and answers every message the moment it is read, with no actor,
/// dispatcher or queue between. WS-RM February 2005 over net.tcp (binary session encoding), only what the benchmark's
/// client calls: CreateSequence (Offer accepted), the sample's Echo and PostedCount replied at once on the offered
/// sequence with the acknowledgement piggy-backed, one-way Post acknowledged at once whenever the client asks
/// (AckRequested) and at every quarter window otherwise, BufferRemaining always the whole window. No retransmission,
/// no close handshake: the client is aborted at the end. Not a server anyone should use; a yardstick.
/// </summary>
public sealed class InstantReliableServer : IDisposable
{
    private const string Rm = "http://schemas.xmlsoap.org/ws/2005/02/rm";
    private const string NetRm = "http://schemas.microsoft.com/ws/2006/05/rm";
    private const string Wsa = "http://www.w3.org/2005/08/addressing";
    private const string Samples = "urn:akkaportshare:samples";
    private readonly Socket _listener;
    private readonly int _window;
    private volatile bool _disposed;

    public int Port { get; }

    public InstantReliableServer(int window)
    {
        _window = window;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        new Thread(AcceptLoop) { IsBackground = true, Name = "instant-rm accept" }.Start();
    }

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
    }

    private void AcceptLoop()
    {
        while (!_disposed)
        {
            Socket socket;
            try
            {
                socket = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            socket.NoDelay = true;
            new Thread(() => Serve(socket)) { IsBackground = true, Name = "instant-rm connection" }.Start();
        }
    }

    private void Serve(Socket socket)
    {
        using var stream = new NetworkStream(socket, ownsSocket: true);
        var encoder = new BinaryMessageEncodingBindingElement().CreateMessageEncoderFactory().CreateSessionEncoder();
        var buffers = BufferManager.CreateBufferManager(0, int.MaxValue);
        var session = new Session();
        try
        {
            if (!ReadPreamble(stream)) return;
            stream.WriteByte(0x0B); // PreambleAck
            while (true)
            {
                var record = stream.ReadByte();
                if (record != 0x06) // SizedEnvelope; anything else (End, a drop) ends the connection
                {
                    if (record == 0x07) stream.WriteByte(0x07);
                    return;
                }
                var size = ReadVarInt(stream);
                var payload = new byte[size];
                stream.ReadExactly(payload);
                using var request = encoder.ReadMessage(new ArraySegment<byte>(payload), buffers, encoder.ContentType);
                foreach (var answer in Answer(request, session))
                {
                    using (answer)
                    {
                        var encoded = encoder.WriteMessage(answer, int.MaxValue, buffers);
                        var frame = new byte[1 + 5 + encoded.Count];
                        frame[0] = 0x06;
                        var n = 1 + WriteVarInt(frame.AsSpan(1), encoded.Count);
                        encoded.AsSpan().CopyTo(frame.AsSpan(n));
                        stream.Write(frame, 0, n + encoded.Count);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or EndOfStreamException)
        {
            // the client went away (it is aborted at the end of a measurement)
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"instant reliable server: {e.GetType().Name}: {e.Message}");
        }
    }

    private sealed class Session
    {
        public string InputId = "urn:uuid:" + Guid.NewGuid();
        public string? OutputId;
        public long Received;   // highest message number of the client's sequence (the client sends in order here)
        public long Sent;
        public long Posted;
        public int Unacknowledged;
    }

    private IEnumerable<Message> Answer(Message request, Session session)
    {
        var version = request.Version;
        var action = request.Headers.Action;
        if (action == Rm + "/CreateSequence")
        {
            using (var reader = request.GetReaderAtBodyContents())
            {
                var body = reader.ReadOuterXml();
                var doc = new XmlDocument();
                doc.LoadXml(body);
                var ns = new XmlNamespaceManager(doc.NameTable);
                ns.AddNamespace("r", Rm);
                session.OutputId = doc.SelectSingleNode("//r:Offer/r:Identifier", ns)?.InnerText.Trim();
            }
            var to = request.Headers.To?.ToString() ?? "";
            var response = Message.CreateMessage(version, Rm + "/CreateSequenceResponse", new Body(w =>
            {
                w.WriteStartElement("r", "CreateSequenceResponse", Rm);
                w.WriteElementString("Identifier", Rm, session.InputId);
                if (session.OutputId is not null)
                {
                    w.WriteStartElement("Accept", Rm);
                    w.WriteStartElement("AcksTo", Rm);
                    w.WriteElementString("a", "Address", Wsa, to);
                    w.WriteEndElement();
                    w.WriteEndElement();
                }
                w.WriteEndElement();
            }));
            response.Headers.RelatesTo = request.Headers.MessageId;
            yield return response;
            yield break;
        }
        var sequence = request.Headers.FindHeader("Sequence", Rm);
        var ackRequested = request.Headers.FindHeader("AckRequested", Rm) >= 0;
        foreach (var name in new[] { "Sequence", "SequenceAcknowledgement", "AckRequested" })
            if (request.Headers.FindHeader(name, Rm) is var i and >= 0) request.Headers.UnderstoodHeaders.Add(request.Headers[i]);
        if (sequence < 0)
        {
            if (action == Rm + "/AckRequested") yield return Acknowledgement(version, session);
            yield break; // standalone acknowledgements, TerminateSequence: nothing to answer here
        }
        long number;
        using (var reader = request.Headers.GetReaderAtHeader(sequence))
        {
            reader.ReadStartElement("Sequence", Rm);
            reader.ReadElementContentAsString("Identifier", Rm);
            number = long.Parse(reader.ReadElementContentAsString("MessageNumber", Rm));
        }
        if (number <= session.Received)
        {
            // A retransmission (the client's timer fired before our acknowledgement reached it): acknowledged again, not counted.
            yield return Acknowledgement(version, session);
            yield break;
        }
        session.Received = number; // TCP keeps the client's order, and nothing is lost on the way
        session.Unacknowledged++;
        var operation = action?[(action.LastIndexOf('/') + 1)..];
        var result = action switch
        {
            Samples + "/IEchoService/Echo" => EchoText(request),
            Samples + "/IEchoService/PostedCount" => session.Posted.ToString(),
            _ => null,
        };
        if (action == Samples + "/IEchoService/Post") session.Posted++;
        if (result is not null && session.OutputId is not null)
        {
            var message = Message.CreateMessage(version, $"{Samples}/IEchoService/{operation}Response", new Body(w =>
            {
                w.WriteStartElement($"{operation}Response", Samples);
                w.WriteElementString($"{operation}Result", Samples, result);
                w.WriteEndElement();
            }));
            message.Headers.RelatesTo = request.Headers.MessageId;
            message.Headers.Add(new Header("Sequence", true, w =>
            {
                w.WriteElementString("Identifier", Rm, session.OutputId);
                w.WriteElementString("MessageNumber", Rm, (++session.Sent).ToString());
            }));
            message.Headers.Add(AckHeader(session));
            session.Unacknowledged = 0;
            yield return message;
        }
        else if (ackRequested || session.Unacknowledged >= Math.Max(1, _window / 4))
        {
            yield return Acknowledgement(version, session);
        }
    }

    private static string EchoText(Message request)
    {
        using var reader = request.GetReaderAtBodyContents();
        reader.ReadStartElement("Echo", Samples);
        return reader.ReadElementContentAsString("text", Samples);
    }

    private Message Acknowledgement(MessageVersion version, Session session)
    {
        var ack = Message.CreateMessage(version, Rm + "/SequenceAcknowledgement");
        ack.Headers.Add(AckHeader(session));
        session.Unacknowledged = 0;
        return ack;
    }

    private Header AckHeader(Session session) => new("SequenceAcknowledgement", false, w =>
    {
        w.WriteElementString("Identifier", Rm, session.InputId);
        w.WriteStartElement("AcknowledgementRange", Rm);
        w.WriteAttributeString("Lower", session.Received > 0 ? "1" : "0");
        w.WriteAttributeString("Upper", session.Received.ToString());
        w.WriteEndElement();
        w.WriteStartElement("netrm", "BufferRemaining", NetRm);
        w.WriteValue(_window);
        w.WriteEndElement();
    });

    private static bool ReadPreamble(Stream stream)
    {
        while (true)
        {
            switch (stream.ReadByte())
            {
                case 0x00: stream.ReadByte(); stream.ReadByte(); break;       // version
                case 0x01: stream.ReadByte(); break;                           // mode
                case 0x02 or 0x04: stream.ReadExactly(new byte[ReadVarInt(stream)]); break; // via, extensible encoding
                case 0x03: stream.ReadByte(); break;                           // known encoding
                case 0x0C: return true;                                        // preamble end
                default: return false;
            }
        }
    }

    private static int ReadVarInt(Stream stream)
    {
        int value = 0, shift = 0;
        while (true)
        {
            var b = stream.ReadByte();
            if (b < 0) throw new EndOfStreamException();
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
            shift += 7;
        }
    }

    private static int WriteVarInt(Span<byte> to, int value)
    {
        var n = 0;
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            to[n++] = value > 0 ? (byte)(b | 0x80) : b;
        } while (value > 0);
        return n;
    }

    private sealed class Body(Action<XmlDictionaryWriter> write) : BodyWriter(isBuffered: true)
    {
        protected override void OnWriteBodyContents(XmlDictionaryWriter writer) => write(writer);
    }

    private sealed class Header(string name, bool mustUnderstand, Action<XmlDictionaryWriter> contents) : MessageHeader
    {
        public override string Name => name;
        public override string Namespace => Rm;
        public override bool MustUnderstand => mustUnderstand;

        protected override void OnWriteStartHeader(XmlDictionaryWriter writer, MessageVersion messageVersion)
        {
            writer.WriteStartElement("r", name, Rm);
            WriteHeaderAttributes(writer, messageVersion);
        }

        protected override void OnWriteHeaderContents(XmlDictionaryWriter writer, MessageVersion messageVersion) => contents(writer);
    }
}
