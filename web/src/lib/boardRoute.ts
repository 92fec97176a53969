// The task board's and communities' pages as hash routes: the mall `#/board`, a task
// `#/board/task/{id}`, the publish form `#/board/new`, my tasks `#/board/mine`, the communities
// `#/communities` and one community `#/community/{id}`.

export type BoardView =
  | { page: "mall" }
  | { page: "task"; id: number }
  | { page: "new" }
  | { page: "mine" }
  | { page: "communities" }
  | { page: "community"; id: number };

const ID = /^[1-9][0-9]{0,15}$/;

/// The board or community page a hash names; anything unknown under `#/board` is the mall, under
/// `#/community` without an id the list of communities.
export function boardViewOf(hash: string): BoardView {
  const parts = hash.replace(/^#\/?/, "").split("?")[0].split("/");
  if (parts[0] === "communities") return { page: "communities" };
  if (parts[0] === "community") return ID.test(parts[1] ?? "") ? { page: "community", id: Number(parts[1]) } : { page: "communities" };
  if (parts[1] === "task" && ID.test(parts[2] ?? "")) return { page: "task", id: Number(parts[2]) };
  if (parts[1] === "new") return { page: "new" };
  if (parts[1] === "mine") return { page: "mine" };
  return { page: "mall" };
}

export function boardHref(view: BoardView): string {
  switch (view.page) {
    case "task":
      return `#/board/task/${view.id}`;
    case "new":
      return "#/board/new";
    case "mine":
      return "#/board/mine";
    case "communities":
      return "#/communities";
    case "community":
      return `#/community/${view.id}`;
    default:
      return "#/board";
  }
}

/// Whether a hash belongs to the board's or the communities' pages.
export const isBoardHash = (hash: string) => /^#\/(board|communities|community)(\/|\?|$)/.test(hash);
