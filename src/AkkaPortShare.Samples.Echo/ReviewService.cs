using System.Runtime.Serialization;
using System.ServiceModel;
using AkkaPortShare.ServiceModel;

namespace AkkaPortShare.Samples.Echo;

/// <summary>
/// A plain WCF duplex service class, served unchanged with <c>ServeService&lt;ReviewService&gt;</c>: it reaches the
/// client through <c>OperationContext.Current.GetCallbackChannel&lt;IReviewCallback&gt;()</c>, with a one-way
/// callback (progress) and a request/reply one (approval) whose typed fault it catches as WCF raises it.
/// ConcurrencyMode Reentrant, as WCF requires of a service that waits on a request/reply callback.
/// </summary>
[ServiceBehavior(InstanceContextMode = InstanceContextMode.PerSession, ConcurrencyMode = ConcurrencyMode.Reentrant)]
public sealed class ReviewService : IReviewService
{
    private int _approved;

    public string Submit(string document)
    {
        var client = OperationContext.Current.GetCallbackChannel<IReviewCallback>();
        client.Progress(document, 50);
        try
        {
            if (!client.Approve(document)) return "rejected";
            _approved++;
            return "approved";
        }
        catch (FaultException<ReviewFault> refused)
        {
            return $"refused: {refused.Detail.Reason} ({refused.Code.SubCode?.Name})";
        }
    }

    public async Task<string> SubmitAsync(string document)
    {
        var client = OperationContext.Current.GetCallbackChannel<IReviewCallback>();
        return await client.CommentAsync(document);
    }

    public int Approved() => _approved;
}

[ServiceContract(Namespace = "urn:akkaportshare:samples", SessionMode = SessionMode.Required, CallbackContract = typeof(IReviewCallback))]
public interface IReviewService
{
    /// <summary>Tells the client of progress, asks it to approve, and answers its decision.</summary>
    [OperationContract]
    string Submit(string document);

    /// <summary>Asks the client for a comment with a Task-based callback and answers it.</summary>
    [OperationContract(Name = "Comment")]
    Task<string> SubmitAsync(string document);

    /// <summary>How many documents this session had approved.</summary>
    [OperationContract]
    int Approved();
}

public interface IReviewCallback
{
    [OperationContract(IsOneWay = true)]
    void Progress(string document, int percent);

    [OperationContract]
    [FaultContract(typeof(ReviewFault))]
    bool Approve(string document);

    [OperationContract]
    Task<string> CommentAsync(string document);
}

[DataContract(Namespace = "urn:akkaportshare:samples")]
public sealed class ReviewFault
{
    [DataMember] public string Reason { get; set; } = "";
}
