using System.Runtime.Serialization;
using System.ServiceModel;
using Akka.Actor;
using AkkaPortShare.ServiceModel;

namespace AkkaPortShare.Samples.Echo;

/// <summary>
/// A contract served by a typed actor (<see cref="ContractActor{TContract}"/>): the methods run in the actor's
/// mailbox, so the tally is plain state. Served with <c>ServeActor&lt;TallyActor&gt;</c> (<c>--tally-address</c>): one
/// actor per session, as a WCF PerSession service.
/// </summary>
public sealed class TallyActor : ContractActor<ITallyService>, ITallyService
{
    private int _total;

    /// <summary>A message of the actor's own, next to the contract's (another actor, a timer): adds a bonus.</summary>
    public sealed record Bonus(int Amount);

    public TallyActor() => Receive<Bonus>(b => _total += b.Amount);

    public int Add(int amount)
    {
        _total += amount;
        GetCallbackChannel<ITallyCallback>().Changed(_total); // one-way: sent, not waited for
        return _total;
    }

    public int Take(int amount) => amount <= _total
        ? _total -= amount
        : throw new FaultException<TallyFault>(new TallyFault { Total = _total }, new FaultReason($"Cannot take {amount}."),
            new FaultCode("Sender", new FaultCode("Overdrawn")), null);

    public async Task<string> ConfirmAsync()
    {
        // Awaited in the actor: no other message runs until the client answers, so _total cannot change meanwhile.
        var approved = await GetCallbackChannel<ITallyCallback>().ApproveAsync(_total);
        return approved ? $"confirmed {_total}" : $"rejected {_total}";
    }

    public void Reset() => _total = 0;

    public int Total() => _total;

    public string Crash() => throw new InvalidOperationException("the tally is broken");
}

[ServiceContract(Namespace = "urn:akkaportshare:samples", SessionMode = SessionMode.Required, CallbackContract = typeof(ITallyCallback))]
public interface ITallyService
{
    /// <summary>Adds to this session's tally, tells the client the new total (one-way callback) and answers it.</summary>
    [OperationContract]
    int Add(int amount);

    /// <summary>Takes from the tally; more than it holds is a typed fault (code Overdrawn).</summary>
    [OperationContract]
    [FaultContract(typeof(TallyFault))]
    int Take(int amount);

    /// <summary>Asks the client to approve the total (a Task-based request/reply callback) and answers its decision.</summary>
    [OperationContract(Name = "Confirm")]
    Task<string> ConfirmAsync();

    [OperationContract(IsOneWay = true)]
    void Reset();

    [OperationContract]
    int Total();

    /// <summary>Throws an ordinary exception: the client gets WCF's internal-error fault.</summary>
    [OperationContract]
    string Crash();
}

public interface ITallyCallback
{
    [OperationContract(IsOneWay = true)]
    void Changed(int total);

    [OperationContract(Name = "Approve")]
    Task<bool> ApproveAsync(int total);
}

[DataContract(Namespace = "urn:akkaportshare:samples")]
public sealed class TallyFault
{
    [DataMember]
    public int Total { get; set; }
}
