using System.Runtime.Serialization;
using System.ServiceModel;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

// The client side's own copy of the sample contract, as svcutil would generate it: no assembly is shared.

/// <summary>The sample's WCF contract: what an unmodified WCF client calls through the shared port.</summary>
[ServiceContract(Namespace = "urn:akkaportshare:samples")]
public interface IEchoService
{
    [OperationContract]
    string Echo(string text);

    /// <summary>Which worker answered (its --identity).</summary>
    [OperationContract]
    string Identity();

    /// <summary>Who the caller proved to be: "NTLM WORKGROUP\alice" (Windows credentials), the client certificate's
    /// subject (TLS), or "anonymous".</summary>
    [OperationContract]
    string Caller();

    /// <summary>One-way: the client does not wait. <see cref="PostedCount"/> tells how many arrived.</summary>
    [OperationContract(IsOneWay = true)]
    void Post(string text);

    [OperationContract]
    int PostedCount();

    /// <summary>One-way, numbered: the service checks that numbers arrive in order, once each.</summary>
    [OperationContract(IsOneWay = true)]
    void PostNumber(int number);

    /// <summary>"received=N outOfOrder=M" for the PostNumber calls of this service so far.</summary>
    [OperationContract]
    string NumbersReceived();

    /// <summary>Always answers with a typed fault carrying the given reason.</summary>
    [OperationContract]
    [FaultContract(typeof(EchoFault))]
    string Fail(string reason);
}

[DataContract(Namespace = "urn:akkaportshare:samples")]
public sealed class EchoFault
{
    [DataMember]
    public string Reason { get; set; } = "";
}

/// <summary>A duplex contract: the service calls the client back on the same session.</summary>
[ServiceContract(Namespace = "urn:akkaportshare:samples", CallbackContract = typeof(IEchoCallback))]
public interface IEchoDuplexService
{
    /// <summary>Calls the client's <see cref="IEchoCallback.Echoed"/> with the text, then returns it.</summary>
    [OperationContract]
    string EchoWithCallback(string text);
}

public interface IEchoCallback
{
    [OperationContract(IsOneWay = true)]
    void Echoed(string text);
}

/// <summary>A streamed contract (TransferMode.Streamed): messages of any size, never held whole.</summary>
[ServiceContract(Namespace = "urn:akkaportshare:samples")]
public interface IStreamService
{
    /// <summary>Reads the whole stream and answers how many bytes it had.</summary>
    [OperationContract]
    long Upload(Stream data);

    /// <summary>Answers a stream of <paramref name="length"/> bytes: byte i is (byte)(i % 251).</summary>
    [OperationContract]
    Stream Download(long length);
}
