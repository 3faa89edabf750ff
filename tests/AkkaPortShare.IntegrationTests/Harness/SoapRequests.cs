using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;

namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>
/// The messages a NetTcpBinding client writes for the sample's IEchoService, built by hand with WCF's binary session
/// encoder (one per connection: it keeps the session's string dictionary), so a test can put them on a raw socket
/// and control its reading side: Echo requests, and the WS-RM February 2005 handshake and sequence messages.
/// </summary>
public sealed class SoapRequests
{
    private const string Anonymous = "http://www.w3.org/2005/08/addressing/anonymous";
    private const string EchoAction = "urn:akkaportshare:samples/IEchoService/Echo";
    private const string Rm = "http://schemas.xmlsoap.org/ws/2005/02/rm";
    private static readonly MessageVersion Version = MessageVersion.Soap12WSAddressing10;

    private readonly MessageEncoder _encoder = new BinaryMessageEncodingBindingElement().CreateMessageEncoderFactory().CreateSessionEncoder();
    private readonly BufferManager _buffers = BufferManager.CreateBufferManager(0, int.MaxValue);
    private readonly Uri _to;

    public SoapRequests(Uri to) => _to = to;

    /// <summary>Echo(text), optionally as message <paramref name="number"/> of reliable sequence <paramref name="sequenceId"/>.</summary>
    public byte[] Echo(string text, string? sequenceId = null, long number = 0)
    {
        var message = Message.CreateMessage(Version, EchoAction, new Body(w =>
        {
            w.WriteStartElement("Echo", "urn:akkaportshare:samples");
            w.WriteElementString("text", "urn:akkaportshare:samples", text);
            w.WriteEndElement();
        }));
        if (sequenceId is not null) message.Headers.Add(new Header("Sequence", w =>
        {
            w.WriteElementString("Identifier", Rm, sequenceId);
            w.WriteElementString("MessageNumber", Rm, number.ToString());
        }));
        return Encode(message, new UniqueId());
    }

    /// <summary>CreateSequence with an Offer, as WCF's reliable client opens a request/reply session.</summary>
    public byte[] CreateSequence() => Encode(Message.CreateMessage(Version, Rm + "/CreateSequence", new Body(w =>
    {
        w.WriteStartElement("CreateSequence", Rm);
        w.WriteStartElement("AcksTo", Rm);
        w.WriteElementString("Address", "http://www.w3.org/2005/08/addressing", Anonymous);
        w.WriteEndElement();
        w.WriteStartElement("Offer", Rm);
        w.WriteElementString("Identifier", Rm, $"urn:uuid:{Guid.NewGuid()}");
        w.WriteEndElement();
        w.WriteEndElement();
    })), new UniqueId());

    /// <summary>The Identifier of a CreateSequenceResponse (decoded with a fresh session decoder: the first reply of the session).</summary>
    public static string SequenceIdOf(byte[] reply)
    {
        var decoder = new BinaryMessageEncodingBindingElement().CreateMessageEncoderFactory().CreateSessionEncoder();
        using var message = decoder.ReadMessage(new ArraySegment<byte>(reply), BufferManager.CreateBufferManager(0, int.MaxValue),
            decoder.ContentType);
        var reader = message.GetReaderAtBodyContents();
        reader.ReadStartElement("CreateSequenceResponse", Rm);
        return reader.ReadElementString("Identifier", Rm);
    }

    private byte[] Encode(Message message, UniqueId messageId)
    {
        using (message)
        {
            message.Headers.To = _to;
            message.Headers.MessageId = messageId;
            message.Headers.ReplyTo = new EndpointAddress(Anonymous);
            return _encoder.WriteMessage(message, int.MaxValue, _buffers).ToArray();
        }
    }

    private sealed class Body(Action<XmlDictionaryWriter> write) : BodyWriter(isBuffered: true)
    {
        protected override void OnWriteBodyContents(XmlDictionaryWriter writer) => write(writer);
    }

    private sealed class Header(string name, Action<XmlDictionaryWriter> write) : MessageHeader
    {
        public override string Name => name;
        public override string Namespace => Rm;
        public override bool MustUnderstand => true;
        protected override void OnWriteHeaderContents(XmlDictionaryWriter writer, MessageVersion messageVersion) => write(writer);
    }
}
