namespace AkkaPortShare.Api.Tests;

/// <summary>
/// One approval per shipped library: what users can call is what the approved file says. The programs (Host,
/// Benchmark, Fuzz, Samples) are not libraries and have no API to pin.
/// </summary>
public sealed class PublicApiSpec
{
    [Fact] public void Protocol_public_api_is_approved() => ApiApproval.Approve("AkkaPortShare.Protocol");
    [Fact] public void Interop_public_api_is_approved() => ApiApproval.Approve("AkkaPortShare.Interop");
    [Fact] public void Contracts_public_api_is_approved() => ApiApproval.Approve("AkkaPortShare.Contracts");
    [Fact] public void ReliableSessions_public_api_is_approved() => ApiApproval.Approve("AkkaPortShare.ReliableSessions");
    [Fact] public void Worker_public_api_is_approved() => ApiApproval.Approve("AkkaPortShare.Worker");
    [Fact] public void ServiceModel_public_api_is_approved() => ApiApproval.Approve("AkkaPortShare.ServiceModel");
    [Fact] public void Router_public_api_is_approved() => ApiApproval.Approve("AkkaPortShare.Router");
}
