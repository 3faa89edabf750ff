using System.ServiceModel;
using Akka.Actor;

namespace AkkaPortShare.ServiceModel.Instancing;

/// <summary>
/// The call of a service instance that the current code runs in (an AsyncLocal: it flows through the operation's
/// awaits and nowhere else), so that a callback proxy called from it can apply WCF's concurrency rules to callouts:
/// ConcurrencyMode Single refuses a request/reply callback on the call's own session (its reply could never be read
/// while the call holds the instance: WCF's ServiceChannel.PrepareCall); Reentrant lets the instance take other calls
/// while the callback waits, and takes it back before the call goes on (WCF's ConcurrencyBehavior callout).
/// </summary>
/// <param name="instanceStopped">Cancelled when the instance's actor stops: a callout then has nothing to resume.</param>
internal sealed class ServiceCallScope(IActorRef instance, string sessionId, ConcurrencyMode concurrency, CancellationToken instanceStopped)
{
    /// <summary>WCF's SFxCallbackRequestReplyInOrder1, for a service.</summary>
    public const string RequestReplyInOrderMessage =
        "This operation would deadlock because the reply cannot be received until the current Message completes " +
        "processing. If you want to allow out-of-order message processing, specify ConcurrencyMode of Reentrant or " +
        "Multiple on ServiceBehaviorAttribute.";

    private static readonly AsyncLocal<ServiceCallScope?> CurrentScope = new();

    public static ServiceCallScope? Current
    {
        get => CurrentScope.Value;
        set => CurrentScope.Value = value;
    }

    /// <summary>A request/reply callback on <paramref name="callbackSessionId"/> is about to be sent.</summary>
    public void ThrowIfItWouldDeadlock(string callbackSessionId)
    {
        if (concurrency == ConcurrencyMode.Single && string.Equals(callbackSessionId, sessionId, StringComparison.Ordinal))
            throw new InvalidOperationException(RequestReplyInOrderMessage);
    }

    /// <summary>
    /// Runs a request/reply callout. Reentrant: the instance is free for other calls meanwhile, and the call goes on
    /// only once it holds the instance again (ahead of new calls, as WCF's callout queue is).
    /// </summary>
    public async Task<T> CalloutAsync<T>(Func<Task<T>> callout, TimeSpan timeout)
    {
#pragma warning disable CS0612 // Reentrant is obsolete in the client packages, yet it is what services declare
        if (concurrency != ConcurrencyMode.Reentrant) return await callout().ConfigureAwait(false);
#pragma warning restore CS0612
        instance.Tell(ServiceInstanceActor.CalloutStarted.Instance);
        try
        {
            return await callout().ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await instance.Ask<ServiceInstanceActor.Resumed>(ServiceInstanceActor.CalloutEnded.Instance, timeout, instanceStopped)
                    .ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (instanceStopped.IsCancellationRequested)
            {
                // The instance ended (its session did): the call goes on to its end with whatever the callout gave.
            }
        }
    }
}
