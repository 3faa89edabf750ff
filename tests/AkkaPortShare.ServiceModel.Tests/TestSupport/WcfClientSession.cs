using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using AkkaPortShare.ServiceModel.Contracts;

namespace AkkaPortShare.ServiceModel.Tests.TestSupport;

/// <summary>
/// The client side of one WCF session, as a NetTcpBinding client builds and reads messages: SOAP 1.2 with
/// WS-Addressing 1.0, MessageID and ReplyTo on requests, encoded with WCF's binary session encoder. One encoder
/// for the whole session, both ways: it keeps the session's string dictionaries across messages.
/// </summary>
internal sealed class WcfClientSession
{
    public const string Anonymous = "http://www.w3.org/2005/08/addressing/anonymous";
    public static readonly MessageVersion Version = MessageVersion.Soap12WSAddressing10;

    private readonly MessageEncoder _encoder = new BinaryMessageEncodingBindingElement().CreateMessageEncoderFactory().CreateSessionEncoder();
    private readonly BufferManager _buffers = BufferManager.CreateBufferManager(0, int.MaxValue);

    public string ContentType => _encoder.ContentType;

    /// <summary>A request of <paramref name="operation"/>; one-way messages carry no MessageID, as WCF sends them.</summary>
    public byte[] Request(OperationMap operation, UniqueId? messageId, params object?[] arguments) =>
        Request(operation.Action, OperationBody.Request(operation, arguments), messageId);

    public byte[] Request(string action, BodyWriter body, UniqueId? messageId)
    {
        var message = Message.CreateMessage(Version, action, body);
        message.Headers.To = new Uri("net.tcp://localhost:8808/svc/Echo");
        if (messageId is not null)
        {
            message.Headers.MessageId = messageId;
            message.Headers.ReplyTo = new EndpointAddress(Anonymous);
        }
        return Encode(message);
    }

    /// <summary>The client's answer to a request/reply callback.</summary>
    public byte[] CallbackReply(OperationMap callback, UniqueId relatesTo, object? result)
    {
        var message = Message.CreateMessage(Version, callback.ReplyAction, OperationBody.Reply(callback, result));
        message.Headers.RelatesTo = relatesTo;
        return Encode(message);
    }

    public byte[] Encode(Message message)
    {
        using (message) return _encoder.WriteMessage(message, int.MaxValue, _buffers).ToArray();
    }

    /// <summary>Decodes what the service sent, buffered so the test can read the body more than once.</summary>
    public MessageBuffer Decode(byte[] payload)
    {
        using var message = _encoder.ReadMessage(new ArraySegment<byte>(payload), _buffers, _encoder.ContentType);
        return message.CreateBufferedCopy(int.MaxValue);
    }
}
