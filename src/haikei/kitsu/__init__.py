"""haikei inside the studio's Kitsu tracker: client (gazu), annotations -> masks, sync (specs/kitsu.md)."""
