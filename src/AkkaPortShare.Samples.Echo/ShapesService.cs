using System.Runtime.Serialization;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml.Serialization;

namespace AkkaPortShare.Samples.Echo;

/// <summary>
/// A plain WCF service class whose contract uses the shapes beyond wrapped data contracts: a message contract with
/// headers, untyped Message operations (one a catch-all, action "*"), an [XmlSerializerFormat] operation, a
/// [ServiceKnownType], a Stream parameter on a buffered binding, out and ref parameters. Served unchanged with
/// ServeService; its one operation of a shape the worker does not serve yet (a message contract written by the
/// XmlSerializer) is refused alone at start-up (a log line names it), and a call to it gets a fault saying so.
/// </summary>
public sealed class ShapesService : IShapesService
{
    public ReceiptMessage Store(DocumentMessage document) => new()
    {
        Receipt = $"{document.Tenant}/{document.Name}",
        Length = document.Content.Length,
    };

    public FileReceipt Upload(FileMessage file)
    {
        using var data = file.Data;
        return new FileReceipt { FileName = file.FileName, Length = Measure(data) };
    }

    public Message Raw(Message request) =>
        Message.CreateMessage(request.Version, IShapesService.Ns + "/raw-reply", "raw: " + request.GetBody<string>());

    public Message Any(Message request) =>
        Message.CreateMessage(request.Version, request.Headers.Action + "-reply", "any: " + request.Headers.Action);

    public Invoice Bill(Invoice invoice, int copies) =>
        new() { Number = invoice.Number, Customer = invoice.Customer, Total = invoice.Total * copies };

    public Animal Adopt(Animal animal) => animal is Dog dog ? new Dog { Name = dog.Name + " (adopted)", Breed = dog.Breed } : animal;

    public long Measure(Stream data)
    {
        long total = 0;
        var buffer = new byte[8192];
        for (int n; (n = data.Read(buffer, 0, buffer.Length)) > 0;) total += n;
        return total;
    }

    public int Divide(int a, ref int b, out int remainder)
    {
        remainder = a % b;
        var quotient = a / b;
        b *= 10;
        return quotient;
    }

    public ReceiptMessage StoreXml(DocumentMessage document) => Store(document);
}

[ServiceContract(Namespace = Ns)]
[ServiceKnownType(typeof(Dog))]
public interface IShapesService
{
    public const string Ns = "urn:akkaportshare:samples:shapes";

    /// <summary>A message contract: the tenant travels in a SOAP header, the document in the body.</summary>
    [OperationContract]
    ReceiptMessage Store(DocumentMessage document);

    /// <summary>WCF's usual upload: the file name in a header, the bytes a Stream body member (buffered or streamed).</summary>
    [OperationContract]
    FileReceipt Upload(FileMessage file);

    [OperationContract(Action = Ns + "/raw", ReplyAction = Ns + "/raw-reply")]
    Message Raw(Message request);

    /// <summary>Every action no other operation has.</summary>
    [OperationContract(Action = "*", ReplyAction = "*")]
    Message Any(Message request);

    [OperationContract]
    [XmlSerializerFormat]
    Invoice Bill(Invoice invoice, int copies);

    /// <summary>Dog is known through [ServiceKnownType] on the contract.</summary>
    [OperationContract]
    Animal Adopt(Animal animal);

    /// <summary>A Stream on a buffered binding: the whole message is read, the service reads the bytes.</summary>
    [OperationContract]
    long Measure(Stream data);

    /// <summary>Out and ref parameters travel in the reply, after the return value.</summary>
    [OperationContract]
    int Divide(int a, ref int b, out int remainder);

    /// <summary>A message contract written by the XmlSerializer: not served yet, refused alone.</summary>
    [OperationContract]
    [XmlSerializerFormat]
    ReceiptMessage StoreXml(DocumentMessage document);
}

[MessageContract(WrapperNamespace = IShapesService.Ns)]
public sealed class DocumentMessage
{
    [MessageHeader(Namespace = IShapesService.Ns)] public string Tenant { get; set; } = "";
    [MessageBodyMember(Namespace = IShapesService.Ns, Order = 1)] public string Name { get; set; } = "";
    [MessageBodyMember(Namespace = IShapesService.Ns, Order = 2)] public byte[] Content { get; set; } = [];
}

[MessageContract(WrapperNamespace = IShapesService.Ns)]
public sealed class ReceiptMessage
{
    [MessageHeader(Namespace = IShapesService.Ns)] public string Receipt { get; set; } = "";
    [MessageBodyMember(Namespace = IShapesService.Ns)] public int Length { get; set; }
}

[MessageContract(WrapperNamespace = IShapesService.Ns)]
public sealed class FileMessage
{
    [MessageHeader(Namespace = IShapesService.Ns)] public string FileName { get; set; } = "";
    [MessageBodyMember(Namespace = IShapesService.Ns)] public Stream Data { get; set; } = Stream.Null;
}

[MessageContract(WrapperNamespace = IShapesService.Ns)]
public sealed class FileReceipt
{
    [MessageHeader(Namespace = IShapesService.Ns)] public string FileName { get; set; } = "";
    [MessageBodyMember(Namespace = IShapesService.Ns)] public long Length { get; set; }
}

[XmlType(Namespace = IShapesService.Ns)]
public sealed class Invoice
{
    [XmlAttribute] public string Number { get; set; } = "";
    public string Customer { get; set; } = "";
    public decimal Total { get; set; }
}

[DataContract(Namespace = IShapesService.Ns)]
public class Animal
{
    [DataMember] public string Name { get; set; } = "";
}

[DataContract(Namespace = IShapesService.Ns)]
public sealed class Dog : Animal
{
    [DataMember] public string Breed { get; set; } = "";
}
