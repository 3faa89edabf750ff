using System.Globalization;
using System.ServiceModel.Channels;
using System.Xml;
using AkkaPortShare.Protocol.TransferWindows;

namespace AkkaPortShare.ServiceModel.Wsrm;

/// <param name="NumberOverflow">The MessageNumber is a valid number too large for Int64 (WS-RM: MessageNumberRollover).</param>
internal sealed record SequenceHeader(string Identifier, long MessageNumber, bool LastMessage, bool NumberOverflow = false);

internal sealed record AcknowledgementHeader(string Identifier, IReadOnlyList<SequenceRange> Ranges, int? BufferRemaining, bool Final);

/// <summary>
/// Reads and writes the WS-RM headers: Sequence, SequenceAcknowledgement (with netrm:BufferRemaining) and
/// AckRequested, as WCF writes them (unqualified Lower/Upper attributes; Feb 2005 "nothing received" as 0-0).
/// </summary>
internal static class WsrmHeaders
{
    public static SequenceHeader? ReadSequence(MessageHeaders headers, WsrmVersion version)
    {
        var index = headers.FindHeader("Sequence", version.Namespace);
        if (index < 0) return null;
        MarkUnderstood(headers, index);
        using var reader = headers.GetReaderAtHeader(index);
        reader.ReadStartElement("Sequence", version.Namespace);
        var id = reader.ReadElementContentAsString("Identifier", version.Namespace);
        var text = reader.ReadElementContentAsString("MessageNumber", version.Namespace).Trim();
        var overflow = false;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            // Digits beyond Int64 are a number past WS-RM's maximum, which has its own fault; anything else is malformed.
            if (text.Length == 0 || !text.All(char.IsAsciiDigit)) throw new XmlException($"Invalid MessageNumber '{text}'");
            overflow = true;
            number = long.MaxValue;
        }
        var last = false;
        while (reader.MoveToContent() == XmlNodeType.Element)
        {
            if (reader.LocalName == "LastMessage" && reader.NamespaceURI == version.Namespace) last = true;
            reader.Skip();
        }
        return new SequenceHeader(id.Trim(), number, last, overflow);
    }

    public static AcknowledgementHeader? ReadAcknowledgement(MessageHeaders headers, WsrmVersion version)
    {
        var index = headers.FindHeader("SequenceAcknowledgement", version.Namespace);
        if (index < 0) return null;
        MarkUnderstood(headers, index);
        using var reader = headers.GetReaderAtHeader(index);
        reader.ReadStartElement("SequenceAcknowledgement", version.Namespace);
        var id = reader.ReadElementContentAsString("Identifier", version.Namespace);
        var ranges = new List<SequenceRange>();
        int? bufferRemaining = null;
        var final = false;
        while (reader.MoveToContent() == XmlNodeType.Element)
        {
            if (reader.LocalName == "AcknowledgementRange" && reader.NamespaceURI == version.Namespace)
            {
                var lower = XmlConvert.ToInt64(reader.GetAttribute("Lower") ?? "0");
                var upper = XmlConvert.ToInt64(reader.GetAttribute("Upper") ?? "0");
                // Feb 2005 writes "nothing received yet" as the range 0-0.
                if (lower > 0 && upper >= lower) ranges.Add(new SequenceRange(lower, upper));
                reader.Skip();
            }
            else if (reader.LocalName == "BufferRemaining" && reader.NamespaceURI == WsrmVersion.NetRmNamespace)
            {
                bufferRemaining = reader.ReadElementContentAsInt();
            }
            else
            {
                if (reader.LocalName == "Final" && reader.NamespaceURI == version.Namespace) final = true;
                reader.Skip();
            }
        }
        return new AcknowledgementHeader(id.Trim(), ranges, bufferRemaining, final);
    }

    public static string? ReadAckRequested(MessageHeaders headers, WsrmVersion version)
    {
        var index = headers.FindHeader("AckRequested", version.Namespace);
        if (index < 0) return null;
        MarkUnderstood(headers, index);
        using var reader = headers.GetReaderAtHeader(index);
        reader.ReadStartElement("AckRequested", version.Namespace);
        return reader.ReadElementContentAsString("Identifier", version.Namespace).Trim();
    }

    public static MessageHeader Sequence(WsrmVersion version, string identifier, long number, bool lastMessage) =>
        new Header("Sequence", version, mustUnderstand: true, writer =>
        {
            writer.WriteElementString("Identifier", version.Namespace, identifier);
            writer.WriteStartElement("MessageNumber", version.Namespace);
            writer.WriteValue(number);
            writer.WriteEndElement();
            if (lastMessage && !version.Is11)
            {
                writer.WriteStartElement("LastMessage", version.Namespace);
                writer.WriteEndElement();
            }
        });

    public static MessageHeader Acknowledgement(WsrmVersion version, string identifier, IReadOnlyList<SequenceRange> ranges,
        int? bufferRemaining, bool final = false) =>
        new Header("SequenceAcknowledgement", version, mustUnderstand: false, writer =>
        {
            writer.WriteElementString("Identifier", version.Namespace, identifier);
            if (ranges.Count == 0 && version.Is11)
            {
                writer.WriteStartElement("None", version.Namespace);
                writer.WriteEndElement();
            }
            else if (ranges.Count == 0)
            {
                WriteRange(writer, version, 0, 0);
            }
            foreach (var range in ranges) WriteRange(writer, version, range.Lower, range.Upper);
            if (final && version.Is11)
            {
                writer.WriteStartElement("Final", version.Namespace);
                writer.WriteEndElement();
            }
            if (bufferRemaining is { } remaining)
            {
                writer.WriteStartElement("netrm", "BufferRemaining", WsrmVersion.NetRmNamespace);
                writer.WriteValue(remaining);
                writer.WriteEndElement();
            }
        });

    public static MessageHeader AckRequested(WsrmVersion version, string identifier) =>
        new Header("AckRequested", version, mustUnderstand: false,
            writer => writer.WriteElementString("Identifier", version.Namespace, identifier));

    // A header may be read more than once (routing, then the session); WCF throws on a second Add.
    private static void MarkUnderstood(MessageHeaders headers, int index)
    {
        if (!headers.UnderstoodHeaders.Contains(headers[index])) headers.UnderstoodHeaders.Add(headers[index]);
    }

    private static void WriteRange(XmlDictionaryWriter writer, WsrmVersion version, long lower, long upper)
    {
        writer.WriteStartElement("AcknowledgementRange", version.Namespace);
        writer.WriteStartAttribute("Lower");
        writer.WriteValue(lower);
        writer.WriteEndAttribute();
        writer.WriteStartAttribute("Upper");
        writer.WriteValue(upper);
        writer.WriteEndAttribute();
        writer.WriteEndElement();
    }

    private sealed class Header(string name, WsrmVersion version, bool mustUnderstand, Action<XmlDictionaryWriter> contents)
        : MessageHeader
    {
        public override string Name => name;
        public override string Namespace => version.Namespace;
        public override bool MustUnderstand => mustUnderstand;

        protected override void OnWriteStartHeader(XmlDictionaryWriter writer, MessageVersion messageVersion)
        {
            writer.WriteStartElement("r", name, version.Namespace);
            WriteHeaderAttributes(writer, messageVersion);
        }

        protected override void OnWriteHeaderContents(XmlDictionaryWriter writer, MessageVersion messageVersion) => contents(writer);
    }
}
