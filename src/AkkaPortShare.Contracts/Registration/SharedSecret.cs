using System.Security.Cryptography;
using System.Text;

namespace AkkaPortShare.Contracts.Registration;

/// <summary>
/// A secret that registrations must present (the router's <c>registration-secret</c>), or a channel token. It is
/// compared in constant time, and never printed: <see cref="ToString"/> says only whether one is set.
/// </summary>
public sealed class SharedSecret
{
    private readonly byte[] _digest;

    public static SharedSecret None { get; } = new("");

    /// <summary>The secret itself, to put into a <see cref="RegistryProtocol.Register"/>; null when none is set.</summary>
    public string? Value { get; }

    public bool IsSet => Value is not null;

    public SharedSecret(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Value = value.Length == 0 ? null : value;
        _digest = SHA256.HashData(Encoding.UTF8.GetBytes(value));
    }

    /// <summary>
    /// True when <paramref name="presented"/> is this secret. Both sides are hashed first, so neither the time taken
    /// nor an early exit on a length mismatch tells a caller how much of a guess was right.
    /// </summary>
    internal bool Matches(string? presented)
    {
        if (Value is null) return true;
        if (presented is null) return false;
        return CryptographicOperations.FixedTimeEquals(_digest, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
    }

    /// <summary>A fresh random token (256 bits, hex).</summary>
    internal static SharedSecret NewToken() => new(Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));

    public override string ToString() => IsSet ? "(set)" : "(none)";
}
