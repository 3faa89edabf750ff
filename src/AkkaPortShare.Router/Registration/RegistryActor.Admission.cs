using Akka.Actor;
using Akka.Event;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Interop;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Connections;
using AkkaPortShare.Router.Handover;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.Router.Registration;

/// <summary>
/// Admission: how a Register is tied to a worker that proved who it is. A known registrant is answered at once; a
/// new one with a hand-over socket is checked off the actor (<see cref="HandoverSocketCheck"/>) and admitted with a
/// channel and its token; one without is admitted only with registration-secret, and relayed.
/// </summary>
internal sealed partial class RegistryActor
{
    /// <summary>
    /// The admitted worker this Register speaks for, or null when it is refused or must first prove itself (its
    /// hand-over socket is being checked, or the channel token is on its way; the worker's retry carries it).
    /// </summary>
    private RegisteredWorker? IdentifyOrAdmit(Register register, string requested)
    {
        if (_state.Workers.ByActor(Sender) is { } known) return known;

        var path = register.Worker.HandoverPath;
        if (!string.IsNullOrEmpty(path) && _state.Admissions.Defer(path, register, Sender))
        {
            _log.Debug("Registration of {0} by {1} waits for the check of hand-over socket {2}", requested, Sender.Path.Address, path);
            return null;
        }
        if (!string.IsNullOrEmpty(path) && _state.Workers.ByChannel(path) is { } channel)
        {
            if (register.ChannelToken is null)
            {
                // The worker's first Register crossed the token it has not received yet; its next one carries it.
                _log.Debug("Registration of {0} by {1} waits for the channel token of worker {2}", requested, Sender.Path.Address, channel.Describe());
                return null;
            }
            if (!channel.ChannelToken!.Matches(register.ChannelToken))
            {
                Refuse(requested, new(RefusalReason.NotAuthorized,
                    $"The registration names the hand-over socket of worker {channel.Describe()} but does not carry the token sent through it."));
                return null;
            }
            channel.ReplyTo = Sender;
            return channel;
        }

        StartAdmission(register, requested);
        return null;
    }

    // A worker seen for the first time. With a hand-over socket, the check (HandoverSocketCheck: its pid must be the
    // one it claims, as the Windows service checks the registering pid; its user must be in allowed-worker-users,
    // the service's allowAccounts) runs off this actor and comes back as AdmissionChecked; meanwhile routing goes
    // on. Without one, the worker is decided here and now: nothing to wait for.
    private void StartAdmission(Register register, string requested)
    {
        var path = register.Worker.HandoverPath;
        if (RegistrationChecks.ChannelEndPoint(path, UnixHandover.IsSupported, out var channelProblem) is not { } endPoint)
        {
            RegisterWithoutChannel(register, requested, channelProblem);
            return;
        }
        if (!_state.Admissions.TryStart(path!, out var cancel))
        {
            Refuse(requested, new(RefusalReason.HandoverUnavailable,
                $"{_settings.MaxConcurrentAdmissions} hand-over socket checks are in flight (max-concurrent-admissions); " +
                "register again later."));
            return;
        }
        // Tell the registrant who is about to connect, so the worker can take its channel from this process only.
        Sender.Tell(new AdmissionStarted(requested, Environment.ProcessId, UnixHandover.CurrentUserId));
        HandoverSocketCheck
            .RunAsync(endPoint, path!, register.Worker.ProcessId, _settings.AllowedWorkerUserIds, _settings.AdmissionTimeout, cancel)
            .PipeTo(Self, Sender,
                success: outcome => new AdmissionChecked(path!, register, outcome),
                failure: e => new AdmissionChecked(path!, register, new HandoverSocketCheck.Unreachable(e.Message)));
    }

    // The check's outcome; Sender is the registrant again (PipeTo keeps it).
    private void OnAdmissionChecked(AdmissionChecked check)
    {
        var deferred = check.Replayed ? [] : _state.Admissions.Finish(check.Path);
        var requested = check.Register.BaseAddress;
        switch (check.Outcome)
        {
            case HandoverSocketCheck.Refused refused:
                Refuse(requested, new(refused.Reason, refused.Message));
                break;
            case HandoverSocketCheck.Unreachable unreachable:
                RegisterWithoutChannel(check.Register, requested, unreachable.Problem);
                break;
            case HandoverSocketCheck.Passed passed:
                AdmitWithChannel(check.Register.Worker, passed);
                break;
        }
        // Registers that arrived while the check ran: after a pass they are handled afresh (the token's carrier
        // among them); otherwise they get the same answer, so a refused registrant cannot loop the check.
        foreach (var (register, sender) in deferred)
        {
            if (check.Outcome is HandoverSocketCheck.Passed) Self.Tell(register, sender);
            else Self.Tell(check with { Register = register, Replayed = true }, sender);
        }
    }

    private void AdmitWithChannel(WorkerEndpoint endpoint, HandoverSocketCheck.Passed passed)
    {
        var lane = new HandoverLane(passed.Channel, HeldConnections.Get(Context.System), _log);
        var gateway = Context.ActorOf(WorkerGatewayActor.Props(passed.Channel, endpoint.ProcessId, _settings, _drains, lane));
        var worker = new RegisteredWorker(endpoint, Sender, gateway, _settings.HandoverMode != HandoverMode.Relay, passed.Token, passed.UserId)
        {
            Lane = lane,
        };
        _state.Workers.AdmitWithChannel(worker);
        _log.Info("Admitted worker {0}: its hand-over socket {1} checked, channel token sent", worker.Describe(), endpoint.HandoverPath);
    }

    // A worker whose user cannot be checked: relayed, and only with registration-secret (already checked in OnRegister).
    private void RegisterWithoutChannel(Register register, string requested, string channelProblem)
    {
        if (_state.Workers.ByActor(Sender) is { } known)
        {
            AddAddress(requested, BaseAddress.Parse(requested), known, admittedNow: false, register.Shared);
            return;
        }
        if (RegistrationChecks.WithoutChannel(_settings.HandoverMode, _settings.RegistrationSecret.IsSet,
                register.Worker.ProcessId, channelProblem) is { } refusal)
        {
            Refuse(requested, refusal);
            return;
        }
        var worker = new RegisteredWorker(register.Worker, Sender, null, false, null, null);
        _state.Workers.AdmitWithoutChannel(worker);
        Context.Watch(Sender);
        _log.Info("Admitted worker {0} with registration-secret; it will be relayed: {1}", worker.Describe(), channelProblem);
        AddAddress(requested, BaseAddress.Parse(requested), worker, admittedNow: true, register.Shared);
    }
}
