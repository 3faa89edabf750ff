using System.Collections.Concurrent;
using System.ServiceModel;
using AkkaPortShare.ServiceModel;

namespace AkkaPortShare.Samples.Echo;

/// <summary>
/// A contract whose operations are all one-way: over a reliable session the WCF client offers no sequence of its own
/// (it has nothing to receive), and the service takes the session input only, as WCF's does.
/// </summary>
[ServiceContract(Namespace = "urn:akkaportshare:samples")]
public interface IJournal
{
    [OperationContract(IsOneWay = true)]
    void Write(string book, string entry);
}

/// <summary>Reads what <see cref="IJournal"/> was sent, in arrival order, per book.</summary>
[ServiceContract(Namespace = "urn:akkaportshare:samples")]
public interface IJournalReader
{
    [OperationContract]
    string[] Read(string book);
}

/// <summary>Both journal contracts, over one store shared by every instance (the sample's stand-in for a database).</summary>
[ServiceBehavior(InstanceContextMode = InstanceContextMode.Single)]
public sealed class JournalService : IJournal, IJournalReader
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> Books = new();

    public void Write(string book, string entry) => Books.GetOrAdd(book, _ => new ConcurrentQueue<string>()).Enqueue(entry);

    public string[] Read(string book) => Books.TryGetValue(book, out var entries) ? entries.ToArray() : [];
}
