namespace AkkaPortShare.Protocol.Addressing;

/// <summary>One entry of the table: the key as registered and who owns it.</summary>
internal sealed class Registration<TOwner>(BaseAddress address, TOwner owner)
    where TOwner : notnull
{
    public BaseAddress Address { get; } = address;

    public TOwner Owner { get; } = owner;
}
