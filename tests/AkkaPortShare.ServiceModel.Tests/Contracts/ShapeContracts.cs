using System.Runtime.Serialization;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml.Serialization;

namespace AkkaPortShare.ServiceModel.Tests.Contracts;

/// <summary>A contract with every shape beyond the wrapped default, and one operation the worker cannot serve.</summary>
[ServiceContract(Namespace = Ns)]
[ServiceKnownType(typeof(Circle))]
public interface IShapes
{
    public const string Ns = "urn:akkaportshare:tests:shapes";

    [OperationContract]
    UploadReply Upload(UploadRequest request);

    [OperationContract(Action = Ns + "/raw", ReplyAction = Ns + "/raw-reply")]
    Message Raw(Message request);

    [OperationContract]
    [XmlSerializerFormat]
    XmlOrder PlaceXml(XmlOrder order, int quantity);

    [OperationContract]
    Shape Grow(Shape shape, double by);

    [OperationContract]
    long Measure(Stream data);

    /// <summary>Out and ref parameters travel in the reply, after the return value.</summary>
    [OperationContract]
    int Divide(int a, ref int b, out int remainder);

    /// <summary>A message contract written by the XmlSerializer: still refused, alone.</summary>
    [OperationContract]
    [XmlSerializerFormat]
    UploadReply UploadXml(UploadRequest request);
}

/// <summary>Action "*": every message the other operations do not take.</summary>
[ServiceContract(Namespace = IShapes.Ns)]
public interface ICatchAll
{
    [OperationContract]
    string Known(string text);

    [OperationContract(Action = "*", ReplyAction = "*")]
    Message Any(Message request);
}

/// <summary>A duplex contract whose callback contract has an untyped operation (refused) next to a wrapped one.</summary>
[ServiceContract(Namespace = IShapes.Ns, CallbackContract = typeof(IUntypedCallback))]
public interface IUntypedCallbacks
{
    [OperationContract(IsOneWay = true)]
    void Start();
}

public interface IUntypedCallback
{
    [OperationContract(IsOneWay = true)]
    void Note(string text);

    [OperationContract(IsOneWay = true, Action = IShapes.Ns + "/callback-raw")]
    void Raw(Message message);

    [OperationContract]
    [XmlSerializerFormat]
    XmlOrder Review(XmlOrder order);
}

[MessageContract(WrapperName = "Upload", WrapperNamespace = IShapes.Ns)]
public sealed class UploadRequest
{
    [MessageHeader(Namespace = IShapes.Ns)] public string FileName { get; set; } = "";
    [MessageHeader(Namespace = IShapes.Ns, MustUnderstand = true)] public int Version { get; set; }
    [MessageBodyMember(Namespace = IShapes.Ns, Order = 1)] public string Owner { get; set; } = "";
    [MessageBodyMember(Namespace = IShapes.Ns, Order = 2)] public byte[] Content { get; set; } = [];
}

[MessageContract(IsWrapped = false)]
public sealed class UploadReply
{
    [MessageHeader(Namespace = IShapes.Ns)] public string Receipt { get; set; } = "";
    [MessageBodyMember(Namespace = IShapes.Ns)] public int Length { get; set; }
}

[XmlType(Namespace = IShapes.Ns)]
public sealed class XmlOrder
{
    [XmlAttribute] public string Id { get; set; } = "";
    public string Item { get; set; } = "";
    public decimal Price { get; set; }
}

[DataContract(Namespace = IShapes.Ns)]
public class Shape
{
    [DataMember] public string Name { get; set; } = "";
}

/// <summary>Known only through [ServiceKnownType] on the contract.</summary>
[DataContract(Namespace = IShapes.Ns)]
public sealed class Circle : Shape
{
    [DataMember] public double Radius { get; set; }
}
