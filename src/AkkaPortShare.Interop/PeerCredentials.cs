namespace AkkaPortShare.Interop;

/// <summary>
/// The credentials of the process at the other end of a connected Unix-domain socket, as the
/// kernel recorded them when the connection was made (SO_PEERCRED; they cannot be forged by the peer).
/// </summary>
/// <param name="ProcessId">The peer's process id (in our pid namespace; 0 if it is not visible there).</param>
/// <param name="UserId">The peer's effective user id.</param>
/// <param name="GroupId">The peer's effective group id.</param>
internal readonly record struct PeerCredentials(int ProcessId, uint UserId, uint GroupId);
