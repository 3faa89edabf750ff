using System.Xml;

namespace AkkaPortShare.ServiceModel.Contracts;

/// <summary>
/// A <c>Stream</c> parameter of a streamed operation: reads the part element's base64 (binary XML bytes) content
/// straight from the message as the service asks for it, so the message is never held whole.
/// </summary>
internal sealed class Base64ContentStream(XmlDictionaryReader reader) : Stream
{
    private bool _ended;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_ended || count == 0) return 0;
        var n = reader.ReadContentAsBase64(buffer, offset, count);
        if (n == 0) _ended = true;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
