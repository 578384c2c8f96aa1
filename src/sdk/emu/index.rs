//! The embedded host's guests in memory, indexed by UUID (in any letter
//! case) and by name, with the highest id given out: registering,
//! renaming and finding a guest cost the same with 10 guests or 10,000.

use super::host::Guest;
use std::collections::{BTreeMap, HashMap};
use std::ops::{Deref, DerefMut};

/// Every guest, by its UUID as stored, plus the indexes.
#[derive(Default)]
pub struct Guests {
    by_uuid: BTreeMap<String, Guest>,
    /// Lowercase UUID → UUID as stored.
    folded: HashMap<String, String>,
    /// Name → UUID as stored.
    names: HashMap<String, String>,
    max_env_id: u32,
}

impl Guests {
    /// The guests loaded from the store.
    pub fn new(all: impl IntoIterator<Item = Guest>) -> Guests {
        let mut g = Guests::default();
        for x in all {
            g.insert(x);
        }
        g
    }

    /// Every guest, in UUID order.
    pub fn values(&self) -> impl Iterator<Item = &Guest> {
        self.by_uuid.values()
    }

    /// The guest with exactly this UUID.
    pub fn get(&self, uuid: &str) -> Option<&Guest> {
        self.by_uuid.get(uuid)
    }

    /// The guest with this UUID in any letter case.
    pub fn get_any_case(&self, uuid: &str) -> Option<&Guest> {
        self.by_uuid.get(uuid).or_else(|| {
            self.folded
                .get(&uuid.to_ascii_lowercase())
                .and_then(|u| self.by_uuid.get(u))
        })
    }

    /// The guest named `name`.
    pub fn by_name(&self, name: &str) -> Option<&Guest> {
        self.names.get(name).and_then(|u| self.by_uuid.get(u))
    }

    /// The id a newly registered guest gets.
    pub fn next_env_id(&self) -> u32 {
        self.max_env_id.saturating_add(1)
    }

    /// Adds or replaces a guest (by its UUID).
    pub fn insert(&mut self, g: Guest) {
        self.remove(&g.uuid);
        self.folded
            .insert(g.uuid.to_ascii_lowercase(), g.uuid.clone());
        self.names.insert(g.name.clone(), g.uuid.clone());
        self.max_env_id = self.max_env_id.max(g.env_id);
        self.by_uuid.insert(g.uuid.clone(), g);
    }

    /// Removes a guest.
    pub fn remove(&mut self, uuid: &str) -> Option<Guest> {
        let g = self.by_uuid.remove(uuid)?;
        self.folded.remove(&g.uuid.to_ascii_lowercase());
        if self.names.get(&g.name).is_some_and(|u| *u == g.uuid) {
            self.names.remove(&g.name);
        }
        Some(g)
    }

    /// A guest to change in place; the name index follows a rename when
    /// the change is done (its UUID must not change).
    pub fn get_mut(&mut self, uuid: &str) -> Option<GuestMut<'_>> {
        let guest = self.by_uuid.get_mut(uuid)?;
        let old_name = guest.name.clone();
        Some(GuestMut {
            guest,
            names: &mut self.names,
            old_name,
        })
    }
}

/// A guest being changed in place (see [`Guests::get_mut`]).
pub struct GuestMut<'a> {
    guest: &'a mut Guest,
    names: &'a mut HashMap<String, String>,
    old_name: String,
}

impl Deref for GuestMut<'_> {
    type Target = Guest;
    fn deref(&self) -> &Guest {
        self.guest
    }
}

impl DerefMut for GuestMut<'_> {
    fn deref_mut(&mut self) -> &mut Guest {
        self.guest
    }
}

impl Drop for GuestMut<'_> {
    fn drop(&mut self) {
        if self.guest.name != self.old_name {
            if self.names.get(&self.old_name) == Some(&self.guest.uuid) {
                self.names.remove(&self.old_name);
            }
            self.names
                .insert(self.guest.name.clone(), self.guest.uuid.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest(uuid: &str, name: &str, env_id: u32) -> Guest {
        Guest {
            uuid: uuid.into(),
            name: name.into(),
            env_id,
            ..Guest::default()
        }
    }

    #[test]
    fn indexes_follow_inserts_renames_and_removals() {
        let mut g = Guests::new([guest("{A-1}", "one", 4), guest("{b-2}", "two", 9)]);
        assert_eq!(g.next_env_id(), 10);
        assert_eq!(
            g.get_any_case("{a-1}").map(|x| x.name.as_str()),
            Some("one")
        );
        assert_eq!(g.by_name("two").map(|x| x.uuid.as_str()), Some("{b-2}"));

        g.get_mut("{b-2}").unwrap().name = "deux".into();
        assert!(g.by_name("two").is_none());
        assert_eq!(g.by_name("deux").map(|x| x.uuid.as_str()), Some("{b-2}"));

        g.insert(guest("{b-2}", "zwei", 9));
        assert!(g.by_name("deux").is_none());
        assert!(g.by_name("zwei").is_some());

        assert!(g.remove("{A-1}").is_some());
        assert!(g.get_any_case("{a-1}").is_none());
        assert!(g.by_name("one").is_none());
        assert_eq!(g.values().count(), 1);
        // Ids are never given out twice, even after a removal.
        assert_eq!(g.next_env_id(), 10);
    }
}
