using Akka.Actor;
using AkkaPortShare.ServiceModel;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.Samples.Echo;

/// <summary>The actor implementing <see cref="IEchoService"/>.</summary>
public sealed class WcfEchoService : ReceiveActor
{
    private int _posted;
    private int _numbersReceived;
    private int _numbersOutOfOrder;
    private int _lastNumber;

    public WcfEchoService(string identity)
    {
        Receive<OperationInvoked>(op => op.Operation == nameof(IEchoService.Identity),
            _ => Sender.Tell(new OperationResult(identity)));
        Receive<OperationInvoked>(op => op.Operation == nameof(IEchoService.Caller), op => Sender.Tell(new OperationResult(
            op.ClientIdentity is { } windows ? $"{windows.AuthenticationType} {windows.Name}" : op.ClientCertificate?.Subject ?? "anonymous")));
        Receive<OperationInvoked>(op => op.Operation == nameof(IEchoService.Echo),
            op => Sender.Tell(new OperationResult(op.Arguments[0])));
        Receive<OperationInvoked>(op => op.Operation == nameof(IEchoService.Post), _ => _posted++);
        Receive<OperationInvoked>(op => op.Operation == nameof(IEchoService.PostNumber), op =>
        {
            var number = (int)op.Arguments[0]!;
            _numbersReceived++;
            if (number != _lastNumber + 1) _numbersOutOfOrder++;
            _lastNumber = number;
        });
        Receive<OperationInvoked>(op => op.Operation == nameof(IEchoService.NumbersReceived),
            _ => Sender.Tell(new OperationResult($"received={_numbersReceived} outOfOrder={_numbersOutOfOrder}")));
        Receive<OperationInvoked>(op => op.Operation == nameof(IEchoService.PostedCount),
            _ => Sender.Tell(new OperationResult(_posted)));
        Receive<OperationInvoked>(op => op.Operation == nameof(IEchoService.Fail), op =>
        {
            var reason = (string?)op.Arguments[0] ?? "";
            Sender.Tell(new OperationFault(reason, "EchoFailed", new EchoFault { Reason = reason }));
        });
        Receive<SessionStarted>(_ => { });
        Receive<SessionEnded>(_ => { });
    }
}

/// <summary>The actor implementing <see cref="IEchoDuplexService"/>: calls back, then answers.</summary>
public sealed class WcfEchoDuplexService : ReceiveActor
{
    public WcfEchoDuplexService()
    {
        Receive<OperationInvoked>(op =>
        {
            op.Callback.Tell(new InvokeCallback(nameof(IEchoCallback.Echoed), op.Arguments[0]));
            Sender.Tell(new OperationResult(op.Arguments[0]));
        });
        Receive<SessionStarted>(_ => { });
        Receive<SessionEnded>(_ => { });
    }
}
