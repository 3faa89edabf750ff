using System.Runtime.InteropServices;

namespace AkkaPortShare.Interop;

/// <summary>
/// User names and ids through the C library's user database (getpwnam_r / getpwuid_r), so names served by NSS
/// (LDAP, systemd-userdb) resolve as they do for the rest of the system. Linux only, like <see cref="UnixHandover"/>.
/// </summary>
internal static unsafe class UnixUsers
{
    private const int InitialBufferSize = 1024;
    private const int MaxBufferSize = 1 << 20;

    /// <summary>The uid of the user called <paramref name="name"/>, or false when there is no such user.</summary>
    public static bool TryGetUserId(string name, out uint userId)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        EnsureSupported();
        uint found = 0;
        var exists = Lookup((entry, buffer, length, result) => LibC.getpwnam_r(name, entry, buffer, length, result),
            entry => found = entry->UserId);
        userId = found;
        return exists;
    }

    /// <summary>The name of the user with id <paramref name="userId"/>, or null when the id has no entry.</summary>
    public static string? GetUserName(uint userId)
    {
        EnsureSupported();
        string? name = null;
        Lookup((entry, buffer, length, result) => LibC.getpwuid_r(userId, entry, buffer, length, result),
            entry => name = Marshal.PtrToStringUTF8((nint)entry->Name));
        return name;
    }

    /// <summary>
    /// The uids a configured list of user names or numeric uids stands for; an empty list stands for this process's
    /// own user and root. Entries that name no user are returned in <paramref name="unknown"/>.
    /// </summary>
    public static IReadOnlySet<uint> ResolveAll(IReadOnlyList<string> users, out IReadOnlyList<string> unknown)
    {
        EnsureSupported();
        var ids = new HashSet<uint>();
        var notFound = new List<string>();
        if (users.Count == 0)
        {
            ids.Add(LibC.geteuid());
            ids.Add(0);
        }
        foreach (var user in users.Select(u => u.Trim()))
        {
            if (uint.TryParse(user, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var uid)) ids.Add(uid);
            else if (user.Length > 0 && TryGetUserId(user, out uid)) ids.Add(uid);
            else notFound.Add(user);
        }
        unknown = notFound;
        return ids;
    }

    /// <summary>"1000 (alice)", or just "1000" when the id has no name: for log lines.</summary>
    public static string Describe(uint userId) =>
        (UnixHandover.IsSupported ? GetUserName(userId) : null) is { } name ? $"{userId} ({name})" : userId.ToString();

    private delegate int LookupCall(LibC.Passwd* entry, byte* buffer, nuint length, LibC.Passwd** result);

    private delegate void Found(LibC.Passwd* entry);

    private static bool Lookup(LookupCall call, Found found)
    {
        for (var size = InitialBufferSize; size <= MaxBufferSize; size *= 2)
        {
            var buffer = new byte[size];
            LibC.Passwd entry;
            LibC.Passwd* result = null;
            int error;
            fixed (byte* b = buffer)
            {
                error = call(&entry, b, (nuint)size, &result);
                if (error == 0)
                {
                    if (result is null) return false;
                    found(result);
                    return true;
                }
            }
            if (error != LibC.ERANGE)
                throw new IOException($"The user database lookup failed: {Marshal.GetPInvokeErrorMessage(error)} (errno {error}).");
        }
        throw new IOException("The user database entry is larger than 1 MiB.");
    }

    private static void EnsureSupported()
    {
        if (!UnixHandover.IsSupported) throw new PlatformNotSupportedException("User lookups are implemented for Linux only.");
    }
}
