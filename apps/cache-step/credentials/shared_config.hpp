#pragma once
// The AWS shared files: ~/.aws/credentials and ~/.aws/config, read the way the AWS CLI and SDKs read them
// (AWS SDKs and Tools Reference Guide, "Shared config and credentials files", format section).
//
// INI rules, decided here:
// - Whitespace around section names, keys and values is dropped; blank lines are skipped.
// - A line whose first non-blank character is '#' or ';' is a comment. In a value, '#' or ';' preceded by a
//   space or tab starts a comment (so "key = v # note" is "v"; "key=a#b" stays "a#b"); after a section's ']'
//   anything is ignored.
// - Keys are case-insensitive (kept lower-case, like botocore's configparser); section and profile names are
//   case-sensitive.
// - An indented line after "key =" continues it (a sub-property block such as "s3 =\n  addressing_style = path"):
//   its lines are kept in the value, one per '\n'. None of the keys read here uses one.
// - A section given twice is merged, a key given twice keeps the last value.
// - Refused, with "FILE:LINE: reason": a property before any section, a line that is neither a section, a
//   property, a comment nor a continuation, a section line without ']'. (botocore refuses these too.)
//
// Profiles: in the credentials file a section "[name]" is the profile "name"; in the config file "[profile name]"
// is, and so is "[default]" for the default profile ("[profile default]" too; it wins over "[default]").
// Other config sections ("[sso-session x]", "[services x]", a bare "[name]") are not profiles. For a profile
// present in both files, a key in the credentials file wins.

#include "resolved_credentials.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cachestep::app::credentials {

using ini_section = std::map<std::string, std::string>;        // lower-case key -> value
using ini_document = std::map<std::string, ini_section>;       // section name as written -> keys

// file_name only names the file in errors.
result<ini_document> parse_ini(std::string_view text, std::string_view file_name);

struct shared_files {
    std::string credentials_path;  // AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials ("" without HOME)
    std::string config_path;       // AWS_CONFIG_FILE, else ~/.aws/config
};

// From AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE and HOME; a leading "~/" expands to HOME.
shared_files shared_file_paths(const getenv_function& getenv);

// AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default".
std::string profile_name(const getenv_function& getenv);

// True when AWS_PROFILE or AWS_DEFAULT_PROFILE names the profile (a missing profile is then an error, as in
// the AWS CLI; a missing "default" is not).
bool profile_named_explicitly(const getenv_function& getenv);

struct profile {
    std::string name;
    ini_section values;  // config-file keys, overridden by credentials-file keys

    // The value, or "" when the key is absent.
    std::string get(std::string_view key) const;
};

// The profile from both files; nullopt when neither file has it. A missing file is no error; a file that exists
// but cannot be read or parsed is.
result<std::optional<profile>> load_profile(std::string_view name, const shared_files& files);

// The same from the two files' texts (for tests); an empty text stands for an absent file.
result<std::optional<profile>> profile_from_texts(std::string_view name, std::string_view credentials_text,
                                                  std::string_view config_text);

}  // namespace cachestep::app::credentials
